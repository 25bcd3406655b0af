"""`prefect.utilities.aws.get_boto_client`: where credentials come from, and the client cache."""

from __future__ import annotations

import threading

import pytest

import prefect
from prefect.utilities import aws

pytest.importorskip("boto3")


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    aws._CACHE.__dict__.pop("clients", None)
    yield
    aws._CACHE.__dict__.pop("clients", None)


def access_key(client) -> str:
    return client._request_signer._credentials.access_key  # type: ignore[no-any-return]


def test_explicit_credentials_are_used():
    client = aws.get_boto_client(
        "s3", credentials={"ACCESS_KEY": "explicit", "SECRET_ACCESS_KEY": "s"}
    )
    assert access_key(client) == "explicit"


def test_the_aws_credentials_secret_is_used_when_none_are_given():
    secret = {"ACCESS_KEY": "from-secret", "SECRET_ACCESS_KEY": "s", "SESSION_TOKEN": "t"}
    with prefect.context(secrets={"AWS_CREDENTIALS": secret}):
        client = aws.get_boto_client("s3")
    assert access_key(client) == "from-secret"
    assert client._request_signer._credentials.token == "t"


def test_keyword_credentials_win_over_the_secret():
    with prefect.context(
        secrets={"AWS_CREDENTIALS": {"ACCESS_KEY": "a", "SECRET_ACCESS_KEY": "b"}}
    ):
        client = aws.get_boto_client("s3", aws_access_key_id="keyword", aws_secret_access_key="b")
    assert access_key(client) == "keyword"


def test_clients_are_cached_per_arguments_and_per_thread():
    credentials = {"ACCESS_KEY": "k", "SECRET_ACCESS_KEY": "s"}
    first = aws.get_boto_client("s3", credentials=credentials)
    assert aws.get_boto_client("s3", credentials=credentials) is first
    assert aws.get_boto_client("s3", credentials=credentials, region_name="eu-west-1") is not first
    assert aws.get_boto_client("sqs", credentials=credentials) is not first
    other: list = []
    thread = threading.Thread(
        target=lambda: other.append(aws.get_boto_client("s3", credentials=credentials))
    )
    thread.start()
    thread.join(30)
    assert other and other[0] is not first


def test_credentials_that_are_not_a_dict_are_refused():
    with pytest.raises(TypeError, match="AWS credentials must be a dict"):
        aws.get_boto_client("s3", credentials="nope")  # type: ignore[arg-type]
