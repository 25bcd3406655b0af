"""`prefect register` / `prefect build` against a real server (the `prefect_server` fixture)."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import prefect
from prefect.cli import cli
from prefect.cli import register as register_cli

FLOW_SCRIPT = """
import prefect
from prefect import Flow, task

@task(name={value!r})
def say(x):
    return x

with Flow("{name}") as flow:
    say(1)
"""


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _write_flow(directory: Path, filename: str, name: str, value: str = "hi") -> Path:
    path = directory / filename
    path.write_text(textwrap.dedent(FLOW_SCRIPT.format(name=name, value=value)))
    return path


def _flows(name: str) -> list[dict]:
    result = prefect.Client().graphql(
        {
            "query": {
                f'flow(where: {{name: {{_eq: "{name}"}}}}, order_by: {{version: asc}})': {
                    "id",
                    "version",
                    "archived",
                    "storage",
                    "run_config",
                    "is_schedule_active",
                    "serialized_flow",
                }
            }
        }
    )
    return [dict(row) for row in result.data.flow]


@pytest.fixture
def project(prefect_server: str) -> str:
    prefect.Client().create_project("proj")
    return "proj"


def test_register_a_script_prints_id_and_version_and_summary(project, tmp_path):
    path = _write_flow(tmp_path, "flow.py", "hello")

    result = _invoke("register", "--project", project, "-p", str(path))

    assert result.exit_code == 0, result.output
    flows = _flows("hello")
    assert len(flows) == 1
    lines = result.output.splitlines()
    assert lines[0] == "Collecting flows..."
    assert lines[1] == f"Processing {str(path)!r}:"
    assert lines[2] == "  Building `Local` storage..."
    assert lines[3] == "  Registering 'hello'... Done"
    assert lines[4] == f"  └── ID: {flows[0]['id']}"
    assert lines[5] == "  └── Version: 1"
    assert lines[6].strip("= ") == "1 registered"


def test_a_script_flow_is_stored_as_the_script(project, tmp_path):
    path = _write_flow(tmp_path, "flow.py", "hello")

    _invoke("register", "--project", project, "-p", str(path))

    storage = _flows("hello")[0]["storage"]
    assert storage["type"] == "Local"
    assert storage["stored_as_script"] is True
    assert storage["path"] == str(path.resolve())
    assert storage["flows"] == {"hello": str(path.resolve())}


def test_registering_an_unchanged_flow_again_is_skipped(project, tmp_path):
    path = _write_flow(tmp_path, "flow.py", "hello")
    _invoke("register", "--project", project, "-p", str(path))

    result = _invoke("register", "--project", project, "-p", str(path))

    assert result.exit_code == 0, result.output
    assert "  Registering 'hello'... Skipped (metadata unchanged)" in result.output.splitlines()
    assert result.output.splitlines()[-1].strip("= ") == "0 registered, 1 skipped"
    assert len(_flows("hello")) == 1


def test_idempotency_key_is_the_hash_of_the_serialized_flow(project, tmp_path, monkeypatch):
    path = _write_flow(tmp_path, "flow.py", "hello")
    sent: list[dict] = []
    original = prefect.Client.graphql

    def recording(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        variables = kwargs.get("variables")
        if variables and "create_flow_from_compressed_string" in str(query):
            sent.append(dict(variables["input"]))
        return original(self, query, *args, **kwargs)

    monkeypatch.setattr(prefect.Client, "graphql", recording)

    _invoke("register", "--project", project, "-p", str(path))

    from prefect.utilities.graphql import decompress

    assert len(sent) == 1
    flow = decompress(sent[0]["serialized_flow"])
    assert flow["tasks"] and flow["edges"] is not None
    assert sent[0]["idempotency_key"] == register_cli.flow_idempotency_key(flow)
    assert sent[0]["set_schedule_active"] is True


def test_force_registers_a_new_version(project, tmp_path):
    path = _write_flow(tmp_path, "flow.py", "hello")
    _invoke("register", "--project", project, "-p", str(path))

    result = _invoke("register", "--project", project, "-p", str(path), "--force")

    assert result.exit_code == 0, result.output
    assert "  └── Version: 2" in result.output.splitlines()
    flows = _flows("hello")
    assert [f["version"] for f in flows] == [1, 2]
    assert [f["archived"] for f in flows] == [True, False]


def test_a_changed_flow_registers_a_new_version(project, tmp_path):
    path = _write_flow(tmp_path, "flow.py", "hello", value="one")
    _invoke("register", "--project", project, "-p", str(path))
    _write_flow(tmp_path, "flow.py", "hello", value="two")

    result = _invoke("register", "--project", project, "-p", str(path))

    assert "  └── Version: 2" in result.output.splitlines(), result.output


def test_labels_are_added_to_the_run_config(project, tmp_path):
    path = _write_flow(tmp_path, "flow.py", "hello")

    result = _invoke("register", "--project", project, "-p", str(path), "-l", "a", "--label", "b")

    assert result.exit_code == 0, result.output
    labels = _flows("hello")[0]["run_config"]["labels"]
    assert {"a", "b"} <= set(labels)
    assert _flows("hello")[0]["run_config"]["type"] == "UniversalRun"


def test_no_schedule_sends_set_schedule_active_false(project, tmp_path, monkeypatch):
    path = tmp_path / "scheduled.py"
    path.write_text(
        textwrap.dedent(
            """
            import datetime
            from prefect import Flow, task
            from prefect.schedules import IntervalSchedule

            @task
            def noop():
                pass

            schedule = IntervalSchedule(interval=datetime.timedelta(minutes=5))
            with Flow("scheduled", schedule=schedule) as flow:
                noop()
            """
        )
    )

    result = _invoke("register", "--project", project, "-p", str(path), "--no-schedule")

    assert result.exit_code == 0, result.output
    assert _flows("scheduled")[0]["is_schedule_active"] is False


def test_schedule_is_activated_by_default(project, tmp_path):
    path = tmp_path / "scheduled.py"
    path.write_text(
        textwrap.dedent(
            """
            import datetime
            from prefect import Flow, task
            from prefect.schedules import IntervalSchedule

            @task
            def noop():
                pass

            schedule = IntervalSchedule(interval=datetime.timedelta(minutes=5))
            with Flow("scheduled", schedule=schedule) as flow:
                noop()
            """
        )
    )

    result = _invoke("register", "--project", project, "-p", str(path))

    assert result.exit_code == 0, result.output
    assert _flows("scheduled")[0]["is_schedule_active"] is True


def test_a_broken_file_is_reported_on_one_line_and_counted_as_errored(project, tmp_path):
    _write_flow(tmp_path, "good.py", "good")
    broken = tmp_path / "broken.py"
    broken.write_text("import prefect\nraise RuntimeError('boom in flow file')\n")

    result = _invoke("register", "--project", project, "-p", str(tmp_path))

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"Error loading {str(broken)!r}:" in lines
    assert "  RuntimeError: boom in flow file" in lines
    assert "Traceback" not in result.output
    assert lines[-1].strip("= ") == "1 registered, 1 errored"
    assert len(_flows("good")) == 1


def test_debug_config_shows_the_traceback(project, tmp_path, monkeypatch):
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom')\n")
    monkeypatch.setitem(prefect.config, "debug", True)

    result = _invoke("register", "--project", project, "-p", str(broken))

    assert result.exit_code == 1
    assert "Traceback (most recent call last):" in result.output


def test_unknown_project_is_one_line_and_exit_1(prefect_server, tmp_path):
    path = _write_flow(tmp_path, "flow.py", "hello")

    result = _invoke("register", "--project", "nope", "-p", str(path))

    assert result.exit_code == 1
    assert result.output == "Project 'nope' does not exist\n"


def test_project_is_required(prefect_server, tmp_path):
    path = _write_flow(tmp_path, "flow.py", "hello")

    result = _invoke("register", "-p", str(path))

    assert result.exit_code == 1
    assert "Missing required option '--project'" in result.output


def test_name_selects_flows_and_unknown_names_are_reported(project, tmp_path):
    path = tmp_path / "two.py"
    path.write_text(
        "from prefect import Flow\nf1 = Flow('one')\nf2 = Flow('two')\n"
        "from prefect import task\n@task\ndef t():\n    pass\nf1.add_task(t)\nf2.add_task(t)\n"
    )

    result = _invoke("register", "--project", project, "-p", str(path), "-n", "two")
    assert result.exit_code == 0, result.output
    assert _flows("one") == [] and len(_flows("two")) == 1

    missing = _invoke("register", "--project", project, "-p", str(path), "-n", "three")
    assert missing.exit_code == 1
    assert "Failed to find the following flows:\n- three" in missing.output


def test_register_a_module(project, tmp_path, monkeypatch):
    package = tmp_path / "cli_register_pkg_a"
    package.mkdir()
    (package / "__init__.py").write_text("")
    _write_flow(package, "flows.py", "from-module")
    monkeypatch.syspath_prepend(str(tmp_path))

    result = _invoke("register", "--project", project, "-m", "cli_register_pkg_a.flows")

    assert result.exit_code == 0, result.output
    storage = _flows("from-module")[0]["storage"]
    assert storage["type"] == "Module"
    assert storage["module"] == "cli_register_pkg_a.flows"


def test_a_missing_module_is_an_errored_source(project):
    result = _invoke("register", "--project", project, "-m", "no_such_module_for_cli_tests")

    assert result.exit_code == 1
    assert "ModuleNotFoundError: No module named 'no_such_module_for_cli_tests'" in result.output
    assert result.output.splitlines()[-1].strip("= ") == "0 registered, 1 errored"


def test_build_then_register_json(project, tmp_path, monkeypatch):
    path = _write_flow(tmp_path, "flow.py", "built")
    output = tmp_path / "flows.json"

    built = _invoke("build", "-p", str(path), "-o", str(output), "-l", "x")
    assert built.exit_code == 0, built.output
    data = json.loads(output.read_text())
    assert data["version"] == 1
    assert [flow["name"] for flow in data["flows"]] == ["built"]
    assert "x" in data["flows"][0]["run_config"]["labels"]

    result = _invoke("register", "--project", project, "--json", str(output))
    assert result.exit_code == 0, result.output
    assert len(_flows("built")) == 1
    again = _invoke("register", "--project", project, "--json", str(output))
    assert "Skipped (metadata unchanged)" in again.output


def test_build_update_merges_into_an_existing_file(tmp_path):
    first = _write_flow(tmp_path, "a.py", "a")
    second = _write_flow(tmp_path, "b.py", "b")
    output = tmp_path / "flows.json"
    _invoke("build", "-p", str(first), "-o", str(output))

    result = _invoke("build", "-p", str(second), "-o", str(output), "--update")

    assert result.exit_code == 0, result.output
    names = sorted(f["name"] for f in json.loads(output.read_text())["flows"])
    assert names == ["a", "b"]


def test_server_unreachable_is_one_line(tmp_path, monkeypatch):
    from prefect.client import _http

    monkeypatch.setattr(_http, "RETRY_TOTAL", 0)
    monkeypatch.setitem(prefect.config.cloud, "api", "http://127.0.0.1:9")
    path = _write_flow(tmp_path, "flow.py", "hello")

    result = _invoke("register", "--project", "p", "-p", str(path))

    assert result.exit_code == 1
    assert len(result.output.splitlines()) == 1
    assert "Could not connect to the Prefect API at http://127.0.0.1:9" in result.output


def test_watch_for_changes_yields_everything_then_changed_files(tmp_path):
    first = _write_flow(tmp_path, "a.py", "a")
    _write_flow(tmp_path, "b.py", "b")
    changes = register_cli.watch_for_changes([str(tmp_path)], period=0.01)

    paths, modules = next(changes)
    assert sorted(os.path.basename(p) for p in paths) == ["a.py", "b.py"]
    assert modules == []

    stat = first.stat()
    os.utime(first, (stat.st_atime, stat.st_mtime + 10))
    paths, _ = next(changes)
    assert paths == [str(first.resolve())]


def test_expand_paths_takes_python_files_of_a_directory(tmp_path):
    (tmp_path / "a.py").write_text("")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.py").write_text("")

    assert register_cli.expand_paths([str(tmp_path)]) == [str(tmp_path / "a.py")]


def test_watch_registers_on_each_change_until_interrupted(project, tmp_path, monkeypatch):
    path = _write_flow(tmp_path, "flow.py", "watched")

    def two_rounds(paths: Any, modules: Any, period: float = 0.5) -> Any:
        yield [str(path)], []
        _write_flow(tmp_path, "flow.py", "watched", value="changed")
        yield [str(path)], []
        raise KeyboardInterrupt

    monkeypatch.setattr(register_cli, "watch_for_changes", two_rounds)

    result = _invoke("register", "--project", project, "-p", str(path), "--watch")

    assert result.exit_code == 0, result.output
    assert [line.strip("= ") for line in result.output.splitlines() if line.startswith("=")] == [
        "1 registered",
        "1 registered",
    ]
    assert result.output.splitlines()[-1] == "Stopped watching."
    assert [f["version"] for f in _flows("watched")] == [1, 2]


def test_register_a_flow_by_its_dotted_path(project, tmp_path, monkeypatch):
    package = tmp_path / "cli_register_pkg_b"
    package.mkdir()
    (package / "__init__.py").write_text("")
    _write_flow(package, "flows.py", "dotted")
    monkeypatch.syspath_prepend(str(tmp_path))

    result = _invoke("register", "--project", project, "-m", "cli_register_pkg_b.flows.flow")

    assert result.exit_code == 0, result.output
    assert _flows("dotted")[0]["storage"]["module"] == "cli_register_pkg_b.flows"


def test_a_missing_path_is_one_line(project, tmp_path):
    result = _invoke("register", "--project", project, "-p", str(tmp_path / "nope.py"))

    assert result.exit_code == 1
    assert result.output == f"Path {str(tmp_path / 'nope.py')!r} doesn't exist\n"


def test_two_sources_with_the_same_flow_name_are_refused(project, tmp_path):
    _write_flow(tmp_path, "a.py", "same")
    _write_flow(tmp_path, "b.py", "same")

    result = _invoke("register", "--project", project, "-p", str(tmp_path))

    assert result.exit_code == 1
    assert "Found multiple flows with the same name" in result.output
    assert _flows("same") == []
