from __future__ import annotations

from typing import Any

import pytest
from marshmallow import ValidationError

import prefect
from prefect.engine.result import NoResult, NoResultType, Result
from prefect.engine.results import ConstantResult, LocalResult, PrefectResult, SecretResult
from prefect.engine.serializers import JSONSerializer
from prefect.serialization import result as result_schemas
from prefect.serialization.result import (
    ConstantResultSchema,
    CustomResultSchema,
    LocalResultSchema,
    NoResultSchema,
    PrefectResultSchema,
    ResultSchema,
    StateResultSchema,
)

VERSION = prefect.__version__


class FakeSecret:
    """Stands in for a `prefect.tasks.secrets` task: built from the secret's name."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name

    def run(self, name: str | None = None) -> str:
        return f"value of {name}"


class MinioResult(Result):
    """A user's own result type."""


def dump(result: Result) -> dict:
    return StateResultSchema().dump(result)


def load(data: dict) -> Any:
    return StateResultSchema().load(data)


def test_schema_names_of_the_reference_exist():
    for name in (
        "ResultSchema",
        "NoResultSchema",
        "CustomResultSchema",
        "AzureResultSchema",
        "ConstantResultSchema",
        "GCSResultSchema",
        "LocalResultSchema",
        "PrefectResultSchema",
        "S3ResultSchema",
        "SecretResultSchema",
        "StateResultSchema",
    ):
        assert isinstance(getattr(result_schemas, name), type)


def test_no_result_dumps_only_type_and_version():
    assert dump(NoResult) == {"__version__": VERSION, "type": "NoResultType"}


def test_no_result_loads_as_the_singleton():
    assert load({"type": "NoResultType"}) is NoResult
    assert load(dump(NoResultType())) is NoResult


def test_base_result_dumps_location_and_never_its_value():
    assert dump(Result(value=ValueError("x"), location=None)) == {
        "location": None,
        "__version__": VERSION,
        "type": "Result",
    }


def test_base_result_loads_with_its_location():
    loaded = load({"type": "Result", "location": "somewhere"})
    assert type(loaded) is Result
    assert loaded.location == "somewhere"
    assert loaded.value is None


def test_prefect_result_dumps_its_json_location():
    written = PrefectResult().write({"a": [1, 2]})
    assert dump(written) == {
        "location": '{"a": [1, 2]}',
        "__version__": VERSION,
        "type": "PrefectResult",
    }


def test_prefect_result_loads_and_reads_its_value_back():
    loaded = load({"type": "PrefectResult", "location": '{"a": [1, 2]}'})
    assert isinstance(loaded, PrefectResult)
    assert loaded.value is None
    assert loaded.read(loaded.location).value == {"a": [1, 2]}
    assert loaded.serializer == JSONSerializer()


def test_local_result_dumps_dir_and_location(tmp_path):
    written = LocalResult(dir=str(tmp_path)).write(1, task_name="t")
    assert dump(written) == {
        "dir": str(tmp_path),
        "location": written.location,
        "__version__": VERSION,
        "type": "LocalResult",
    }


def test_local_result_loads_without_creating_its_directory(tmp_path):
    directory = tmp_path / "elsewhere"
    loaded = load({"type": "LocalResult", "dir": str(directory), "location": "a.bin"})
    assert isinstance(loaded, LocalResult)
    assert loaded.dir == str(directory)
    assert loaded.location == "a.bin"
    assert not directory.exists()


def test_local_result_load_without_objects_does_not_add_validate_dir():
    data = LocalResultSchema().load({"dir": "/d", "location": "x"}, create_object=False)
    assert data == {"dir": "/d", "location": "x"}


def test_constant_result_dumps_location_only():
    assert dump(ConstantResult(value=[1, 2, 3])) == {
        "location": None,
        "__version__": VERSION,
        "type": "ConstantResult",
    }


def test_constant_result_loads():
    loaded = load({"type": "ConstantResult", "location": None})
    assert isinstance(loaded, ConstantResult)


def test_secret_result_dumps_secret_type_and_name():
    secret = SecretResult(FakeSecret(name="API_KEY"))
    dumped = dump(secret)
    assert dumped == {
        "location": "API_KEY",
        "secret_type": f"{FakeSecret.__module__}.FakeSecret",
        "__version__": VERSION,
        "type": "SecretResult",
    }


def test_secret_result_loads_by_rebuilding_its_secret_task():
    loaded = load(dump(SecretResult(FakeSecret(name="API_KEY"))))
    assert isinstance(loaded, SecretResult)
    assert type(loaded.secret_task).__name__ == "FakeSecret"
    assert loaded.location == "API_KEY"
    assert loaded.read("API_KEY").value == "value of API_KEY"


def test_secret_result_with_an_unknown_secret_type_fails_to_load():
    with pytest.raises(ValidationError, match="secret task"):
        load({"type": "SecretResult", "location": "X", "secret_type": "no.such.Secret"})


def test_user_result_class_dumps_its_qualified_name_and_location():
    assert dump(MinioResult(value=1, location="minio://b/k")) == {
        "location": "minio://b/k",
        "__version__": VERSION,
        "type": f"{MinioResult.__module__}.MinioResult",
    }


def test_subclass_of_a_known_result_counts_as_a_user_class():
    class MyLocal(PrefectResult):
        pass

    assert dump(MyLocal(location="1"))["type"].endswith(".MyLocal")


@pytest.mark.parametrize("type_name", ["CustomResult", "my_package.results.MinioResult"])
def test_user_result_types_load_as_plain_results(type_name: str):
    loaded = load({"type": type_name, "location": "minio://b/k", "extra": 1})
    assert type(loaded) is Result
    assert loaded.location == "minio://b/k"


@pytest.mark.parametrize(
    ("class_name", "attribute", "value"),
    [("S3Result", "bucket", "b"), ("GCSResult", "bucket", "b"), ("AzureResult", "container", "c")],
)
def test_cloud_results_dump_their_bucket_or_container(class_name: str, attribute: str, value: str):
    # The cloud result classes come with their own issue; the schemas go by class name.
    cloud_class = type(class_name, (Result,), {})
    result = cloud_class(location="path/key")
    setattr(result, attribute, value)
    assert dump(result) == {
        attribute: value,
        "location": "path/key",
        "__version__": VERSION,
        "type": class_name,
    }


def test_serializer_is_not_dumped():
    dumped = dump(PrefectResult(location="1"))
    assert "serializer" not in dumped
    assert "value" not in dumped


def test_missing_type_fails_to_load():
    with pytest.raises(ValidationError):
        load({"location": "x"})


def test_dumping_something_that_is_not_a_result_fails():
    with pytest.raises(ValidationError, match="Result objects"):
        dump(42)  # type: ignore[arg-type]


def test_unknown_keys_are_ignored_on_load():
    loaded = load({"type": "PrefectResult", "location": "1", "from_the_future": True})
    assert loaded.location == "1"


def test_individual_schemas_build_their_classes():
    assert isinstance(ResultSchema().load({"location": "x"}), Result)
    assert NoResultSchema().load({}) is NoResult
    assert isinstance(CustomResultSchema().load({"location": "x"}), Result)
    assert isinstance(ConstantResultSchema().load({}), ConstantResult)
    assert isinstance(PrefectResultSchema().load({"location": "1"}), PrefectResult)
