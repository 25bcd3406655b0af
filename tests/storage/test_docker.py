from __future__ import annotations

import os
import sys

import pytest

import prefect
from prefect.serialization.storage import StorageSchema
from prefect.storage import Docker, _healthcheck
from prefect.storage.docker import multiline_indent
from prefect.utilities.storage import flow_from_bytes_pickle

PY = "{}.{}".format(*sys.version_info[:2])


class FakeAPIClient:
    """Records what `Docker.build` asks the daemon for."""

    def __init__(self, build_succeeds: bool = True) -> None:
        self.calls: list[tuple] = []
        self.build_succeeds = build_succeeds
        self.dockerfile_text = ""

    def pull(self, image, stream, decode):
        self.calls.append(("pull", image))
        return iter([{"status": "Pulling"}])

    def build(self, path, dockerfile, tag, rm, **kwargs):
        self.calls.append(("build", tag, rm, kwargs))
        with open(dockerfile) as f:
            self.dockerfile_text = f.read()
        self.context_files = sorted(os.listdir(os.path.dirname(dockerfile)))
        self.context = path
        return iter([{"stream": "Step 1/9 : FROM x\n"}, b'{"stream": "done"}'])

    def images(self, name):
        self.calls.append(("images", name))
        return [{"Id": "sha"}] if self.build_succeeds else []

    def push(self, image, tag, stream, decode):
        self.calls.append(("push", image, tag))
        return iter([{"status": "Pushed"}])

    def remove_image(self, image, force):
        self.calls.append(("remove_image", image))


@pytest.fixture
def fake_client(monkeypatch):
    client = FakeAPIClient()
    monkeypatch.setattr(Docker, "_get_client", lambda self: client)
    return client


def test_defaults(monkeypatch):
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    storage = Docker()
    assert storage.registry_url is None
    assert storage.image_name is None and storage.image_tag is None
    assert storage.python_dependencies == ["wheel"]
    assert storage.prefect_directory == "/opt/prefect"
    assert storage.env_vars == {"PREFECT__USER_CONFIG_PATH": "/opt/prefect/config.toml"}
    assert storage.files == {}
    assert storage.base_url == "unix://var/run/docker.sock"
    assert storage.build_kwargs == {} and storage.rm_build_kwarg is True
    assert storage.prefect_version == prefect.__version__
    assert storage.base_image == f"prefecthq/prefect:{prefect.__version__}-python{PY}"
    assert storage.installation_commands == []
    assert storage.labels == []


def test_non_release_version_builds_from_python_and_installs_prefect():
    storage = Docker(prefect_version="master")
    assert storage.base_image == f"python:{PY}-slim"
    assert any("prefect.git@master" in c for c in storage.installation_commands)


def test_docker_host_and_rm_build_kwarg(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://docker:2375")
    storage = Docker(build_kwargs={"rm": False, "nocache": True}, python_dependencies=["pandas"])
    assert storage.base_url == "tcp://docker:2375"
    assert storage.rm_build_kwarg is False
    assert storage.build_kwargs == {"nocache": True}
    assert storage.python_dependencies == ["pandas", "wheel"]


def test_invalid_arguments():
    with pytest.raises(ValueError, match="Only one of `base_image` and `dockerfile`"):
        Docker(base_image="a", dockerfile="b")
    with pytest.raises(ValueError, match="not absolute"):
        Docker(files={"relative/file": "/x"})


def test_name_needs_image_name_and_tag():
    with pytest.raises(ValueError, match="missing required fields image_name and image_tag"):
        Docker().name
    assert Docker(image_name="img", image_tag="t").name == "img:t"
    assert (
        Docker(registry_url="reg.io/team/", image_name="img", image_tag="t").name
        == "reg.io/team/img:t"
    )


def test_add_flow_paths(make_flow):
    storage = Docker()
    assert storage.add_flow(make_flow("My Flow")) == "/opt/prefect/flows/my-flow.prefect"
    with pytest.raises(ValueError, match="Name conflict"):
        storage.add_flow(make_flow("My Flow"))
    assert Docker(path="/app/f.prefect").add_flow(make_flow()) == "/app/f.prefect"
    with pytest.raises(ValueError, match="`path` must be provided"):
        Docker(stored_as_script=True).add_flow(make_flow())


def test_dockerfile_lists_every_step(tmp_path, make_flow):
    extra_file = tmp_path / "extra.txt"
    extra_file.write_text("hello")
    storage = Docker(
        base_image="python:3.11-slim",
        python_dependencies=["pandas"],
        env_vars={"A": "1", "B": "two words"},
        files={str(extra_file): "/opt/extra.txt"},
        extra_dockerfile_commands=["RUN echo extra"],
    )
    storage.add_flow(make_flow("one"))
    build_dir = tmp_path / "build"
    build_dir.mkdir()

    dockerfile = storage.create_dockerfile_object(directory=str(build_dir))

    text = open(dockerfile).read()
    lines = text.splitlines()
    assert lines[0] == "FROM python:3.11-slim"
    assert "RUN pip install pandas wheel" in lines
    assert "COPY one.flow /opt/prefect/flows/one.prefect" in lines
    assert "COPY file_0_extra.txt /opt/extra.txt" in lines
    assert 'ENV A="1" \\' in lines
    assert '    B="two words" \\' in lines
    assert '    PREFECT__USER_CONFIG_PATH="/opt/prefect/config.toml"' in lines
    assert "RUN echo extra" in lines
    assert lines[-1] == (
        "RUN python /opt/prefect/healthcheck.py '[\"/opt/prefect/flows/one.prefect\"]' "
        f"'({sys.version_info[0]}, {sys.version_info[1]})'"
    )
    assert flow_from_bytes_pickle((build_dir / "one.flow").read_bytes()).name == "one"
    assert (build_dir / "file_0_extra.txt").read_text() == "hello"
    assert (build_dir / "healthcheck.py").is_file()


def test_ignore_healthchecks_leaves_the_check_out(tmp_path, make_flow):
    storage = Docker(base_image="b", ignore_healthchecks=True)
    storage.add_flow(make_flow())
    text = open(storage.create_dockerfile_object(directory=str(tmp_path))).read()
    assert "healthcheck" not in text


def test_user_dockerfile_is_the_start_and_the_context(tmp_path, make_flow, fake_client):
    tmp_path = tmp_path / "project"
    tmp_path.mkdir()
    (tmp_path / "Dockerfile").write_text("FROM custom:1\nCOPY requirements.txt /req.txt")
    storage = Docker(dockerfile=str(tmp_path / "Dockerfile"), image_name="i", image_tag="t")
    storage.add_flow(make_flow("one"))
    storage.build(push=False)
    assert fake_client.dockerfile_text.startswith("FROM custom:1\nCOPY requirements.txt /req.txt\n")
    assert fake_client.context == str(tmp_path)
    # The flow is copied from the temporary directory inside the context.
    copy_line = next(
        line for line in fake_client.dockerfile_text.splitlines() if line.endswith("one.prefect")
    )
    assert copy_line.startswith("COPY tmp") and "/one.flow " in copy_line
    assert not any(c[0] == "pull" for c in fake_client.calls)
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]  # temp dir removed


def test_build_names_tags_pushes_and_removes(make_flow, fake_client):
    storage = Docker(registry_url="reg.io/team", base_image="python:3.11-slim")
    storage.add_flow(make_flow("My Flow"))
    assert storage.build() is storage
    assert storage.image_name == "my-flow"
    assert storage.image_tag.startswith("20")
    tag = f"reg.io/team/my-flow:{storage.image_tag}"
    kinds = [c[0] for c in fake_client.calls]
    assert kinds == ["pull", "build", "images", "push", "remove_image"]
    assert fake_client.calls[1] == ("build", tag, True, {"decode": True})
    assert fake_client.calls[3] == ("push", "reg.io/team/my-flow", storage.image_tag)
    assert sorted(fake_client.context_files) == ["Dockerfile", "healthcheck.py", "my-flow.flow"]
    assert storage.name == tag


def test_build_without_registry_warns_and_does_not_push(make_flow, fake_client):
    storage = Docker(base_image="b", local_image=True, image_name="img", image_tag="v1")
    storage.add_flow(make_flow("a"))
    storage.add_flow(make_flow("b"))
    with pytest.warns(UserWarning, match="no `registry_url`"):
        storage.build()
    assert [c[0] for c in fake_client.calls] == ["build", "images"]
    assert storage.name == "img:v1"


def test_several_flows_get_a_uuid_image_name(make_flow, fake_client):
    storage = Docker(base_image="b", local_image=True)
    storage.add_flow(make_flow("a"))
    storage.add_flow(make_flow("b"))
    storage.build(push=False)
    assert len(storage.image_name) == 36


def test_failed_build_raises(make_flow, monkeypatch):
    monkeypatch.setattr(Docker, "_get_client", lambda self: FakeAPIClient(build_succeeds=False))
    storage = Docker(base_image="b", local_image=True)
    storage.add_flow(make_flow())
    with pytest.raises(ValueError, match="failed to build"):
        storage.build(push=False)


def test_daemon_errors_while_pulling_interrupt(monkeypatch):
    class Failing(FakeAPIClient):
        def pull(self, image, stream, decode):
            return iter([{"error": "manifest unknown"}])

    monkeypatch.setattr(Docker, "_get_client", lambda self: Failing())
    with pytest.raises(InterruptedError, match="manifest unknown"):
        Docker(base_image="nope").pull_image()


def test_healthcheck_of_the_image_loads_the_flows(tmp_path, make_flow, capsys):
    storage = Docker(base_image="b")
    storage.add_flow(make_flow("one"))
    storage.create_dockerfile_object(directory=str(tmp_path))
    version = f"({sys.version_info[0]}, {sys.version_info[1]})"
    _healthcheck.main([f'["{tmp_path / "one.flow"}"]', version])
    assert "All health checks passed." in capsys.readouterr().out
    with pytest.raises(ValueError, match="Python version mismatch"):
        _healthcheck.main([f'["{tmp_path / "one.flow"}"]', "(2, 7)"])


def test_get_flow_reads_the_file_inside_the_image(tmp_path, make_flow, run_task):
    storage = Docker(base_image="b", path=str(tmp_path / "f.prefect"))
    storage.add_flow(make_flow("inside", x=1))
    storage.create_dockerfile_object(directory=str(tmp_path))
    os.replace(tmp_path / "inside.flow", tmp_path / "f.prefect")  # what COPY does
    rebuilt = StorageSchema().load(storage.serialize())
    assert run_task(rebuilt.get_flow("inside"), "increment") == 2
    with pytest.raises(ValueError, match="not contained"):
        rebuilt.get_flow("other")


def test_script_in_the_image(flow_script, run_task):
    storage = Docker(base_image="b", stored_as_script=True, path=flow_script)
    storage.add_flow(prefect.Flow("script-flow"))
    assert run_task(storage.get_flow("script-flow"), "double") == 42


def test_without_the_docker_package_building_says_what_to_install(monkeypatch, make_flow):
    monkeypatch.setitem(sys.modules, "docker", None)
    storage = Docker(base_image="b", local_image=True, image_name="i", image_tag="t")
    storage.add_flow(make_flow())
    with pytest.raises(ImportError, match="pip install docker"):
        storage.build(push=False)


def test_multiline_indent():
    assert multiline_indent("a\nb\nc", 2) == "a\n  b\n  c"
