from __future__ import annotations

import pytest

from prefect.run_configs._templates import is_local_path, parse_path


@pytest.mark.parametrize(
    "path, local",
    [
        ("/abs/job.yaml", "/abs/job.yaml"),
        ("rel/job.yaml", "rel/job.yaml"),
        ("file:///abs/job.yaml", "/abs/job.yaml"),
        ("local://rel/job.yaml", "rel/job.yaml"),
    ],
)
def test_local_paths_get_the_file_scheme(path, local):
    parsed = parse_path(path)
    assert parsed.scheme == "file"
    assert parsed.path == local
    assert is_local_path(path)


@pytest.mark.parametrize("path", ["s3://b/k.yaml", "gcs://b/k", "http://h/k", "agent:///k"])
def test_remote_paths_keep_their_scheme(path):
    assert not is_local_path(path)
    assert parse_path(path).scheme == path.split(":")[0]
