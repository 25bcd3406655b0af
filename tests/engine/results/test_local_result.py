from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

import prefect
from prefect.engine.result import Result
from prefect.engine.results import LocalResult
from prefect.engine.serializers import JSONSerializer, PickleSerializer


def test_default_dir_is_results_under_the_prefect_home_dir(tmp_path: Path):
    prefect.config.home_dir = str(tmp_path / "home")
    result = LocalResult()
    assert result.dir == str(tmp_path / "home" / "results")
    assert os.path.isdir(result.dir)


def test_validated_dir_is_made_absolute_and_created(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = LocalResult(dir="relative/results")
    assert result.dir == str(tmp_path / "relative" / "results")
    assert os.path.isdir(result.dir)


def test_validated_dir_expands_the_user_home(isolated_prefect: Path):
    result = LocalResult(dir="~/my-results")
    assert result.dir == str(isolated_prefect / "my-results")
    assert os.path.isdir(result.dir)


def test_unvalidated_dir_is_kept_as_given_and_not_created(tmp_path: Path):
    result = LocalResult(dir="somewhere/else", validate_dir=False)
    assert result.dir == "somewhere/else"
    assert not (tmp_path / "somewhere").exists()


def test_dir_that_cannot_be_created_raises_a_clear_error(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(OSError, match="validate_dir=False") as info:
        LocalResult(dir=str(blocker / "results"))
    assert str(blocker / "results") in str(info.value)


def test_local_result_is_a_result_with_the_pickle_serializer_by_default(tmp_path: Path):
    result = LocalResult(dir=str(tmp_path))
    assert isinstance(result, Result)
    assert result.serializer == PickleSerializer()
    assert result.value is None
    assert result.location is None


def test_write_stores_the_serialized_value_and_returns_a_new_result(tmp_path: Path):
    result = LocalResult(dir=str(tmp_path), location="out.bin")
    written = result.write({"a": 1})
    assert written is not result
    assert written.value == {"a": 1}
    assert written.location == str(tmp_path / "out.bin")
    assert pickle.loads((tmp_path / "out.bin").read_bytes()) == {"a": 1}
    assert result.value is None
    assert result.location == "out.bin"


def test_write_uses_the_configured_serializer(tmp_path: Path):
    result = LocalResult(dir=str(tmp_path), location="out.json", serializer=JSONSerializer())
    result.write([1, 2, 3])
    assert (tmp_path / "out.json").read_text() == "[1, 2, 3]"


def test_write_formats_the_location_template_and_creates_subdirectories(tmp_path: Path):
    result = LocalResult(dir=str(tmp_path), location="{flow_name}/{task_name}-{map_index}.bin")
    written = result.write(5, flow_name="etl", task_name="load", map_index=3)
    assert written.location == str(tmp_path / "etl" / "load-3.bin")
    assert (tmp_path / "etl" / "load-3.bin").exists()


def test_write_with_a_missing_template_key_raises_key_error(tmp_path: Path):
    with pytest.raises(KeyError):
        LocalResult(dir=str(tmp_path), location="{task_name}.bin").write(1)


def test_write_keeps_an_absolute_location(tmp_path: Path):
    target = tmp_path / "elsewhere" / "x.bin"
    written = LocalResult(dir=str(tmp_path / "results"), location=str(target)).write(7)
    assert written.location == str(target)
    assert target.exists()


def test_write_without_a_location_uses_a_fresh_default_location_in_dir(tmp_path: Path):
    result = LocalResult(dir=str(tmp_path))
    first = result.write(1)
    second = result.write(2)
    assert first.location != second.location
    for written in (first, second):
        assert os.path.dirname(written.location) == str(tmp_path)
        assert os.path.basename(written.location).startswith("prefect-result-")
    assert result.location is None


def test_default_location_is_a_file_in_dir(tmp_path: Path):
    location = LocalResult(dir=str(tmp_path)).default_location
    assert os.path.dirname(location) == str(tmp_path)
    assert os.path.basename(location).startswith("prefect-result-")


def test_write_overwrites_and_leaves_no_temporary_files(tmp_path: Path):
    directory = tmp_path / "results"
    result = LocalResult(dir=str(directory), location="same.bin")
    result.write(1)
    result.write(2)
    assert os.listdir(directory) == ["same.bin"]
    assert result.read("same.bin").value == 2


def test_failed_serialization_writes_nothing(tmp_path: Path):
    directory = tmp_path / "results"
    result = LocalResult(dir=str(directory), location="bad.json", serializer=JSONSerializer())
    with pytest.raises(TypeError):
        result.write(object())
    assert os.listdir(directory) == []


def test_read_returns_a_new_result_with_the_value(tmp_path: Path):
    written = LocalResult(dir=str(tmp_path), location="x.bin").write([1, 2])
    reader = LocalResult(dir=str(tmp_path))
    read = reader.read("x.bin")
    assert read is not reader
    assert read.value == [1, 2]
    assert read.location == "x.bin"
    assert reader.value is None
    assert reader.read(written.location).value == [1, 2]


def test_read_of_a_missing_file_raises_file_not_found(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        LocalResult(dir=str(tmp_path)).read("missing.bin")


def test_exists_formats_the_location_and_checks_the_file(tmp_path: Path):
    result = LocalResult(dir=str(tmp_path))
    assert not result.exists("{task_name}.bin", task_name="t")
    LocalResult(dir=str(tmp_path), location="{task_name}.bin").write(1, task_name="t")
    assert result.exists("{task_name}.bin", task_name="t")
    assert result.exists("t.bin")
    assert not result.exists("{task_name}.bin", task_name="other")


def test_copies_compare_equal_and_differ_once_written(tmp_path: Path):
    result = LocalResult(dir=str(tmp_path), location="a.bin")
    assert result.copy() == result
    assert result.write(1) != result
