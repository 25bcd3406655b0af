"""`Client` calls: credentials, tenants, projects, flow registration and the run-time
operations, checked by the exact requests they send to a scripted server."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pendulum
import pytest
import toml

import prefect
from prefect import Flow, Parameter, task
from prefect.client import Client, _http
from prefect.client import client as client_module
from prefect.client.client import FlowRunInfoResult, ProjectInfo, TaskRunInfoResult
from prefect.engine.state import Pending, Queued, Running, Success
from prefect.exceptions import ClientError, ObjectNotFoundError
from prefect.utilities.configuration import set_temporary_config
from prefect.utilities.graphql import decompress


def _load_api_server():
    name = "_prefect_client_test_api_server"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).with_name("_api_server.py")
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_SERVER = _load_api_server()


@pytest.fixture(autouse=True)
def server_backend(monkeypatch, tmp_path):
    monkeypatch.setattr(_http, "RETRY_BACKOFF_FACTOR", 0.0)
    monkeypatch.setattr(client_module, "API_ERROR_BACKOFF", 0.0)
    with set_temporary_config(
        {"backend": "server", "server.ui.endpoint": "http://ui:8080", "home_dir": str(tmp_path)}
    ):
        yield


@pytest.fixture
def api():
    yield from _SERVER.serve()


@pytest.fixture
def client(api):
    return Client(api_server=api.url)


def compact(text: str) -> str:
    return " ".join(text.split())


class TestCredentials:
    def test_arguments_win_over_config_and_config_over_the_auth_file(self, api):
        Client(api_server=api.url, api_key="disk-key", tenant_id="disk-tenant").save_auth_to_disk()
        assert Client(api_server=api.url).api_key == "disk-key"
        with set_temporary_config({"cloud.api_key": "config-key", "cloud.tenant_id": "config-t"}):
            client = Client(api_server=api.url)
            assert (client.api_key, client.tenant_id) == ("config-key", "config-t")
            client = Client(api_server=api.url, api_key="arg-key", tenant_id="arg-t")
            assert (client.api_key, client.tenant_id) == ("arg-key", "arg-t")

    def test_auth_file_holds_one_table_per_api_server(self, api):
        path = Path(prefect.config.home_dir).expanduser() / "auth.toml"
        Client(api_server="https://api.prefect.io", api_key="cloud-key").save_auth_to_disk()
        Client(api_server="http://localhost:4200", api_key="k2", tenant_id="t2").save_auth_to_disk()
        data = toml.loads(path.read_text())
        assert data == {
            "https-api.prefect.io": {"api_key": "cloud-key"},
            "http-localhost-4200": {"api_key": "k2", "tenant_id": "t2"},
        }
        assert Client(api_server="http://localhost:4200").load_auth_from_disk() == {
            "api_key": "k2",
            "tenant_id": "t2",
        }
        assert Client(api_server="http://elsewhere").load_auth_from_disk() == {}

    def test_no_auth_file_means_no_credentials(self, client):
        assert client.load_auth_from_disk() == {}
        assert client.api_key is None


class TestTenants:
    def test_server_tenant_is_the_first_one_and_looked_up_once(self, api, client):
        api.reply_data(tenant=[{"id": "t-1"}, {"id": "t-2"}])
        assert client.tenant_id == "t-1"
        assert client.tenant_id == "t-1"
        assert [compact(q) for q in api.queries] == ["query { tenant { id } }"]

    def test_server_without_tenants_says_how_to_make_one(self, api, client):
        api.reply_data(tenant=[])
        with pytest.raises(ClientError, match="prefect server create-tenant"):
            client.tenant_id

    def test_cloud_tenant_comes_from_the_api_key(self, api):
        api.reply_data(auth_info={"tenant_id": "cloud-t"})
        with set_temporary_config({"backend": "cloud"}):
            assert Client(api_server=api.url, api_key="k").tenant_id == "cloud-t"
        assert compact(api.queries[0]) == "query { auth_info { tenant_id } }"

    def test_cloud_without_key_or_tenant_cannot_determine_one(self, api):
        with set_temporary_config({"backend": "cloud"}):
            with pytest.raises(ClientError, match="tenant could not be determined"):
                Client(api_server=api.url).tenant_id
        assert api.requests == []

    def test_tenant_id_is_settable(self, client):
        client.tenant_id = "chosen"
        assert client.tenant_id == "chosen"

    def test_create_tenant_slugifies_the_name(self, api, client):
        api.reply_data(create_tenant={"id": "new-t"})
        assert client.create_tenant("My Team") == "new-t"
        request = api.requests[0]
        assert "create_tenant(input: $input)" in request.query
        assert "mutation($input: create_tenant_input!)" in request.query
        assert request.variables == {"input": {"name": "My Team", "slug": "my-team"}}

    def test_create_tenant_is_refused_for_cloud(self, client):
        with set_temporary_config({"backend": "cloud"}):
            with pytest.raises(ValueError, match="Prefect Server"):
                client.create_tenant("x")

    def test_available_tenants_ordered_by_slug(self, api, client):
        api.reply_data(tenant=[{"id": "1", "slug": "a", "name": "A"}])
        assert client.get_available_tenants()[0].slug == "a"
        assert (
            compact(api.queries[0]) == "query { tenant(order_by: { slug: asc }) { id slug name } }"
        )

    def test_switch_tenant_by_slug(self, api, client):
        api.reply_data(tenant=[{"id": "t-9"}])
        assert client.switch_tenant(tenant_slug="team") == "t-9"
        assert client.tenant_id == "t-9"
        assert api.requests[0].variables == {"slug": "team"}
        with pytest.raises(ValueError):
            client.switch_tenant()

    def test_cloud_url_uses_the_ui_endpoint_and_tenant_slug(self, api, client):
        api.reply_data(tenant=[{"id": "t-1"}])
        api.reply_data(tenant=[{"id": "t-0", "slug": "other"}, {"id": "t-1", "slug": "default"}])
        assert client.get_cloud_url("flow-run", "abc") == "http://ui:8080/default/flow-run/abc"
        assert [compact(q) for q in api.queries] == [
            "query { tenant { id } }",
            "query { tenant { id slug } }",
        ]


class TestProjects:
    def test_create_project_sends_name_description_and_tenant(self, api, client):
        api.reply_data(tenant=[{"id": "t-1"}])
        api.reply_data(create_project={"id": "p-1"})
        assert client.create_project("etl", "nightly jobs") == "p-1"
        assert api.requests[1].variables == {
            "input": {"name": "etl", "description": "nightly jobs", "tenant_id": "t-1"}
        }
        assert "mutation($input: create_project_input!)" in api.requests[1].query

    def test_existing_project_is_found_by_name(self, api, client):
        client.tenant_id = "t-1"
        api.reply(
            {"data": {"create_project": None}, "errors": [{"message": "Uniqueness violation."}]}
        )
        api.reply_data(project=[{"id": "p-old"}])
        assert client.create_project("etl") == "p-old"
        assert (
            compact(api.queries[1]) == 'query { project(where: { name: { _eq: "etl" } }) { id } }'
        )

    def test_other_creation_errors_propagate(self, api, client):
        client.tenant_id = "t-1"
        api.reply({"data": None, "errors": [{"message": "Invalid tenant"}]})
        with pytest.raises(ClientError, match="Invalid tenant"):
            client.create_project("etl")

    def test_delete_project(self, api, client):
        api.reply_data(project=[{"id": "p-1"}])
        api.reply_data(delete_project={"success": True})
        assert client.delete_project("etl") is True
        assert api.requests[1].variables == {"input": {"project_id": "p-1"}}
        api.reply_data(project=[])
        with pytest.raises(ValueError, match="not found"):
            client.delete_project("gone")


SERIALIZED = {
    "__version__": "1.4.1",
    "type": "prefect.core.flow.Flow",
    "name": "etl",
    "schedule": None,
    "parameters": [],
    "tasks": [{"slug": "a-1"}, {"slug": "b-1"}],
    "edges": [{"upstream_task": {"slug": "a-1"}, "downstream_task": {"slug": "b-1"}}],
    "reference_tasks": [],
    "run_config": None,
    "storage": None,
}


@pytest.fixture
def tiny_flow(monkeypatch):
    @task
    def a():
        return 1

    @task
    def b(x):
        return x

    with Flow("etl") as flow:
        b(a())
    calls: list[bool] = []

    def serialize(build: bool = False) -> dict:
        calls.append(build)
        return {
            **SERIALIZED,
            "tasks": list(SERIALIZED["tasks"]),
            "edges": list(SERIALIZED["edges"]),
        }

    monkeypatch.setattr(flow, "serialize", serialize)
    flow.serialize_calls = calls
    return flow


def answer_registration(api, flow_id: str = "f-1") -> None:
    api.reply_data(project=[{"id": "p-1"}])
    api.reply_data(create_flow_from_compressed_string={"id": flow_id})


class TestRegister:
    def test_sends_the_flow_without_tasks_and_edges_then_tasks_edges_and_schedule(
        self, api, client, tiny_flow, capsys
    ):
        answer_registration(api)
        api.reply_data(register_tasks={"success": True})
        api.reply_data(register_edges={"success": True})
        api.reply_data(set_schedule_active={"success": True})
        api.reply_data(flow_by_pk={"flow_group_id": "g-1"})
        api.reply_data(tenant=[{"id": "t-1"}])
        api.reply_data(tenant=[{"id": "t-1", "slug": "default"}])

        assert client.register(tiny_flow, project_name="proj") == "f-1"
        assert tiny_flow.serialize_calls == [True]

        queries = [compact(q) for q in api.queries]
        assert queries == [
            'query { project(where: { name: { _eq: "proj" } }) { id } }',
            "mutation($input: create_flow_from_compressed_string_input!) "
            "{ create_flow_from_compressed_string(input: $input) { id } }",
            "mutation($input: register_tasks_input!) { register_tasks(input: $input) { success } }",
            "mutation($input: register_edges_input!) { register_edges(input: $input) { success } }",
            "mutation($input: set_schedule_active_input!) "
            "{ set_schedule_active(input: $input) { success } }",
            'query { flow_by_pk(id: "f-1") { flow_group_id } }',
            "query { tenant { id } }",
            "query { tenant { id slug } }",
        ]
        create = api.requests[1].variables["input"]
        assert set(create) == {
            "project_id",
            "serialized_flow",
            "set_schedule_active",
            "version_group_id",
        }
        assert create["project_id"] == "p-1"
        assert create["set_schedule_active"] is False
        assert create["version_group_id"] is None
        sent_flow = decompress(create["serialized_flow"])
        assert "tasks" not in sent_flow and "edges" not in sent_flow
        assert sent_flow["name"] == "etl"
        assert api.requests[2].variables == {
            "input": {"flow_id": "f-1", "serialized_tasks": SERIALIZED["tasks"]}
        }
        assert api.requests[3].variables == {
            "input": {"flow_id": "f-1", "serialized_edges": SERIALIZED["edges"]}
        }
        assert api.requests[4].variables == {"input": {"flow_id": "f-1"}}
        out = capsys.readouterr().out
        assert "Flow URL: http://ui:8080/default/flow/g-1" in out
        assert "└── ID: f-1" in out and "└── Project: proj" in out

    def test_uncompressed_with_idempotency_key_and_no_schedule_or_url(
        self, api, client, tiny_flow, capsys
    ):
        api.reply_data(project=[{"id": "p-1"}])
        api.reply_data(create_flow={"id": "f-2"})
        flow_id = client.register(
            tiny_flow,
            project_name="proj",
            build=False,
            set_schedule_active=False,
            version_group_id="vg",
            compressed=False,
            no_url=True,
            idempotency_key="key-1",
        )
        assert flow_id == "f-2"
        assert tiny_flow.serialize_calls == [False]
        create = api.requests[1]
        assert "mutation($input: create_flow_input!)" in create.query
        sent = create.variables["input"]
        assert sent["idempotency_key"] == "key-1"
        assert sent["version_group_id"] == "vg"
        assert sent["serialized_flow"]["name"] == "etl"
        names = [compact(q).split("(input")[0].split()[-1] for q in api.queries[2:]]
        assert names == ["register_tasks", "register_edges"]
        assert capsys.readouterr().out == ""

    def test_tasks_go_in_batches_of_500_with_a_last_empty_batch_on_a_multiple(
        self, api, client, tiny_flow, monkeypatch
    ):
        many = [{"slug": f"t-{i}"} for i in range(1000)]
        monkeypatch.setattr(
            tiny_flow, "serialize", lambda build=False: {**SERIALIZED, "tasks": many, "edges": []}
        )
        answer_registration(api)
        client.register(tiny_flow, project_name="proj", set_schedule_active=False, no_url=True)
        task_batches = [
            r.variables["input"]["serialized_tasks"]
            for r in api.requests
            if "register_tasks" in r.query
        ]
        edge_batches = [
            r.variables["input"]["serialized_edges"]
            for r in api.requests
            if "register_edges" in r.query
        ]
        assert [len(b) for b in task_batches] == [500, 500, 0]
        assert task_batches[1][0] == {"slug": "t-500"}
        assert edge_batches == [[]]

    def test_missing_project_says_how_to_create_it(self, api, client, tiny_flow):
        api.reply_data(project=[])
        with pytest.raises(
            ValueError, match="Project proj not found. Run `prefect create project 'proj'`"
        ):
            client.register(tiny_flow, project_name="proj")
        assert len(api.requests) == 1

    def test_project_name_is_required(self, client, tiny_flow):
        with pytest.raises(TypeError, match="project_name"):
            client.register(tiny_flow)

    def test_create_mutation_is_not_resent_on_api_error(self, api, client, tiny_flow):
        api.reply_data(project=[{"id": "p-1"}])
        api.reply({"data": None, "errors": [{"message": "x", "extensions": {"code": "API_ERROR"}}]})
        with pytest.raises(ClientError):
            client.register(tiny_flow, project_name="proj")
        assert len(api.requests) == 2

    def test_scheduled_flow_with_required_parameters_is_refused(self, client):
        from prefect.schedules import IntervalSchedule

        flow = Flow("s", schedule=IntervalSchedule(interval=pendulum.duration(minutes=5)))
        flow.add_task(Parameter("x"))
        with pytest.raises(ValueError, match="required parameters can not be scheduled"):
            client.register(flow, project_name="proj")

    def test_unschedulable_flow_error_is_a_client_error_as_in_1x(self, api, client):
        from prefect.schedules import IntervalSchedule

        flow = Flow("s", schedule=IntervalSchedule(interval=pendulum.duration(minutes=5)))
        flow.add_task(Parameter("x"))
        with pytest.raises(ClientError, match="Flows with required parameters can not be sche"):
            client.register(flow, project_name="proj")
        # Refused before anything is sent.
        assert api.requests == []

    def test_flow_register_goes_through_the_client(self, api, tiny_flow):
        answer_registration(api, "f-9")
        with set_temporary_config({"cloud.api": api.url}):
            flow_id = tiny_flow.register(
                project_name="proj", build=False, set_schedule_active=False, no_url=True
            )
        assert flow_id == "f-9"


def test_register_refuses_a_flow_that_does_not_load_back(api, client, monkeypatch):
    """As 1.x: the serialized flow is loaded back before anything is sent."""

    @task
    def one():
        return 1

    with Flow("broken") as flow:
        one()
    real = flow.serialize
    monkeypatch.setattr(
        flow,
        "serialize",
        lambda build=False: {**real(build=build), "schedule": {"type": "NoSuchClock"}},
    )
    api.reply_data(project=[{"id": "p-1"}])
    with pytest.raises(ValueError, match="Flow could not be deserialized successfully"):
        client.register(flow, project_name="proj", build=False, no_url=True)
    assert len(api.requests) == 1  # only the project lookup


def test_register_sends_the_real_serialized_flow(api, client):
    pytest.importorskip("prefect.serialization.flow")

    @task
    def one():
        return 1

    with Flow("real") as flow:
        one()
    answer_registration(api)
    client.register(flow, project_name="proj", build=False, set_schedule_active=False, no_url=True)
    sent = decompress(api.requests[1].variables["input"]["serialized_flow"])
    assert sent["name"] == "real" and sent["type"] == "prefect.core.flow.Flow"
    (tasks_request,) = [r for r in api.requests if "register_tasks" in r.query]
    assert [t["name"] for t in tasks_request.variables["input"]["serialized_tasks"]] == ["one"]


def state_json(state: Any) -> dict:
    return state.serialize()


class TestFlowRuns:
    def test_create_flow_run_sends_only_the_given_fields(self, api, client):
        api.reply_data(create_flow_run={"id": "r-1"})
        start = pendulum.datetime(2024, 1, 2, 3, 4, 5, tz="UTC")
        run_id = client.create_flow_run(
            flow_id="f-1",
            parameters={"n": 4},
            scheduled_start_time=start,
            idempotency_key="k",
            run_name="nightly",
            labels=["a"],
        )
        assert run_id == "r-1"
        assert "mutation($input: create_flow_run_input!)" in api.requests[0].query
        assert api.requests[0].variables == {
            "input": {
                "flow_id": "f-1",
                "parameters": {"n": 4},
                "labels": ["a"],
                "idempotency_key": "k",
                "scheduled_start_time": "2024-01-02T03:04:05+00:00",
                "flow_run_name": "nightly",
            }
        }

    def test_create_flow_run_by_version_group_gets_a_random_idempotency_key(self, api, client):
        api.reply_data(create_flow_run={"id": "r-1"})
        api.reply_data(create_flow_run={"id": "r-2"})
        client.create_flow_run(version_group_id="vg")
        client.create_flow_run(version_group_id="vg", context={"a": 1})
        first, second = (r.variables["input"] for r in api.requests)
        assert set(first) == {"version_group_id", "idempotency_key"}
        assert len(first["idempotency_key"]) == 32
        assert first["idempotency_key"] != second["idempotency_key"]
        assert second["context"] == {"a": 1}
        with pytest.raises(ValueError):
            client.create_flow_run()

    def test_create_flow_run_serializes_the_run_config(self, api, client):
        class FakeRunConfig:
            def serialize(self) -> dict:
                return {"type": "UniversalRun", "labels": ["x"]}

        api.reply_data(create_flow_run={"id": "r-1"})
        client.create_flow_run(flow_id="f", run_config=FakeRunConfig())  # type: ignore[arg-type]
        assert api.requests[0].variables["input"]["run_config"] == {
            "type": "UniversalRun",
            "labels": ["x"],
        }

    def test_flow_run_info_is_parsed_into_named_tuples(self, api, client):
        api.reply_data(
            flow_run_by_pk={
                "id": "r-1",
                "name": "mauve-sparrow",
                "flow_id": "f-1",
                "parameters": {"n": 4},
                "context": None,
                "version": 3,
                "scheduled_start_time": "2024-01-02T03:04:05+00:00",
                "serialized_state": state_json(Running("Running flow.")),
                "task_runs": [
                    {
                        "id": "tr-1",
                        "task": {"id": "t-1", "slug": "a-1"},
                        "version": 0,
                        "serialized_state": {"type": "Pending", "message": "Task run created"},
                    },
                    {
                        "id": "tr-2",
                        "task": {"id": "t-2", "slug": "b-1"},
                        "version": 1,
                        "serialized_state": None,
                    },
                ],
                "flow": {"project": {"name": "proj", "id": "p-1"}},
            }
        )
        info = client.get_flow_run_info("r-1")
        assert isinstance(info, FlowRunInfoResult)
        assert (info.id, info.name, info.flow_id, info.version) == (
            "r-1",
            "mauve-sparrow",
            "f-1",
            3,
        )
        assert info.parameters == {"n": 4} and type(info.parameters) is dict
        assert info.context == {}
        assert info.project == ProjectInfo(id="p-1", name="proj")
        assert info.scheduled_start_time == pendulum.datetime(2024, 1, 2, 3, 4, 5, tz="UTC")
        assert isinstance(info.state, Running) and info.state.message == "Running flow."
        first, second = info.task_runs
        assert isinstance(first, TaskRunInfoResult)
        assert (first.id, first.task_id, first.task_slug, first.version) == (
            "tr-1",
            "t-1",
            "a-1",
            0,
        )
        assert isinstance(first.state, Pending) and first.state.message == "Task run created"
        assert isinstance(second.state, Pending)
        query = compact(api.queries[0])
        assert query.startswith('query { flow_run_by_pk(id: "r-1") {')
        assert (
            "task_runs(where: { map_index: { _eq: -1 } }) { id task { id slug } version serialized_state }"
            in query
        )
        assert "flow { project { name id } }" in query

    def test_unknown_flow_run(self, api, client):
        api.reply_data(flow_run_by_pk=None)
        with pytest.raises(ClientError, match="Flow run ID not found"):
            client.get_flow_run_info("nope")
        api.reply_data(flow_run_by_pk=None)
        with pytest.raises(ObjectNotFoundError):
            client.get_flow_run_state("nope")

    def test_set_flow_run_state_sends_the_serialized_state(self, api, client):
        api.reply_data(
            set_flow_run_states={"states": [{"id": "r-1", "status": "SUCCESS", "message": None}]}
        )
        state = Success("All reference tasks succeeded.")
        assert client.set_flow_run_state("r-1", state, version=2) is state
        request = api.requests[0]
        assert "mutation($input: set_flow_run_states_input!)" in request.query
        assert "states { id message status }" in compact(request.query)
        assert request.variables == {
            "input": {"states": [{"state": state.serialize(), "flow_run_id": "r-1", "version": 2}]}
        }

    def test_a_queued_answer_becomes_a_queued_state(self, api, client):
        api.reply_data(
            set_task_run_states={"states": [{"id": "tr", "status": "QUEUED", "message": "busy"}]}
        )
        with set_temporary_config({"cloud.queue_interval": 60.0}):
            before = pendulum.now("UTC")
            state = client.set_task_run_state("tr", Running())
            after = pendulum.now("UTC")
        assert isinstance(state, Queued) and state.message == "busy"
        # A minute after the answer came, however long the request took.
        assert before.add(seconds=60) <= state.start_time <= after.add(seconds=60)
        assert api.requests[0].variables["input"]["states"][0]["version"] is None

    def test_get_flow_run_state(self, api, client):
        api.reply_data(flow_run_by_pk={"serialized_state": state_json(Success("done"))})
        state = client.get_flow_run_state("r-1")
        assert isinstance(state, Success) and state.message == "done"
        assert compact(api.queries[0]) == 'query { flow_run_by_pk(id: "r-1") { serialized_state } }'

    def test_heartbeat_is_an_inline_mutation_with_its_header(self, api, client):
        api.reply_data(update_flow_run_heartbeat={"success": True})
        client.update_flow_run_heartbeat("r-1")
        request = api.requests[0]
        assert compact(request.query) == (
            'mutation { update_flow_run_heartbeat(input: { flow_run_id: "r-1" }) { success } }'
        )
        assert request.headers["X-PREFECT-HEARTBEAT-ID"] == "r-1"

    def test_names_and_cancellation(self, api, client):
        api.reply_data(set_flow_run_name={"success": True})
        api.reply_data(set_task_run_name={"success": False})
        api.reply_data(cancel_flow_run={"state": "Cancelling"})
        assert client.set_flow_run_name("r", "new") is True
        assert client.set_task_run_name("tr", "x") is False
        assert client.cancel_flow_run("r") == "Cancelling"
        assert [r.variables["input"] for r in api.requests] == [
            {"flow_run_id": "r", "name": "new"},
            {"task_run_id": "tr", "name": "x"},
            {"flow_run_id": "r"},
        ]


class TestTaskRuns:
    def test_get_task_run_info_creates_the_run_inline(self, api, client):
        api.reply_data(
            get_or_create_task_run_info={"id": "tr-1", "version": 0, "serialized_state": None}
        )
        with prefect.context(task_slug="a-1"):
            info = client.get_task_run_info("r-1", "t-1", map_index=2)
        assert info == TaskRunInfoResult(
            id="tr-1", task_id="t-1", task_slug="a-1", version=0, state=info.state
        )
        assert isinstance(info.state, Pending)
        assert compact(api.queries[0]) == (
            'mutation { get_or_create_task_run_info(input: { flow_run_id: "r-1", task_id: "t-1", '
            "map_index: 2 }) { id version serialized_state } }"
        )

    def test_unmapped_task_run_has_map_index_minus_one(self, api, client):
        api.reply_data(
            get_or_create_task_run_info={"id": "tr", "version": 1, "serialized_state": None}
        )
        client.get_task_run_info("r", "t")
        assert "map_index: -1" in api.queries[0]

    def test_get_task_run_state(self, api, client):
        api.reply_data(get_task_run_info={"serialized_state": state_json(Success("ok"))})
        assert client.get_task_run_state("tr").message == "ok"
        assert (
            compact(api.queries[0])
            == 'query { get_task_run_info(task_run_id: "tr") { serialized_state } }'
        )

    def test_latest_cached_states_by_cache_key_or_task(self, api, client):
        cached = {"type": "Cached", "message": "hit"}
        api.reply_data(task_run=[{"serialized_state": cached}])
        api.reply_data(task_run=[])
        after = pendulum.datetime(2024, 1, 1, tz="UTC")
        states = client.get_latest_cached_states("t-1", "key", after)
        assert [s.message for s in states] == ["hit"]
        assert client.get_latest_cached_states("t-1", None, after) == []
        first, second = (compact(q) for q in api.queries)
        assert first == (
            'query { task_run(where: { state: { _eq: "Cached" }, state_timestamp: { _gte: '
            '"2024-01-01T00:00:00+00:00" }, cache_key: { _eq: "key" } }, order_by: '
            "{ state_timestamp: desc }, limit: 100) { serialized_state } }"
        )
        assert 'task_id: { _eq: "t-1" }' in second and "cache_key" not in second


class TestLogsAgentsArtifacts:
    def test_write_run_logs(self, api, client):
        logs = [{"flow_run_id": "r", "message": "hi", "level": "INFO", "name": "agent"}]
        api.reply_data(write_run_logs={"success": True})
        client.write_run_logs(logs)
        assert api.requests[0].variables == {"input": {"logs": logs}}
        api.reply_data(write_run_logs={"success": False})
        with pytest.raises(ValueError, match="Writing logs failed."):
            client.write_run_logs(logs)

    def test_register_agent_resolves_the_tenant_first(self, api, client):
        api.reply_data(tenant=[{"id": "t-1"}])
        api.reply_data(register_agent={"id": "agent-1"})
        assert client.register_agent("LocalAgent", name="agent", labels=["l"]) == "agent-1"
        assert api.requests[1].variables == {
            "input": {
                "type": "LocalAgent",
                "name": "agent",
                "labels": ["l"],
                "tenant_id": "t-1",
                "agent_config_id": None,
            }
        }
        api.reply_data(register_agent={"id": None})
        with pytest.raises(ValueError):
            client.register_agent("LocalAgent")

    def test_agent_config(self, api, client):
        api.reply_data(agent_config=[{"settings": {"a": 1}}])
        assert client.get_agent_config("c") == {"a": 1}
        api.reply_data(agent_config=[])
        with pytest.raises(ValueError):
            client.get_agent_config("missing")

    def test_artifacts(self, api, client):
        api.reply_data(create_task_run_artifact={"id": "art"})
        api.reply_data(update_task_run_artifact={"success": True})
        api.reply_data(delete_task_run_artifact={"success": True})
        assert client.create_task_run_artifact("tr", "link", {"link": "x"}) == "art"
        client.update_task_run_artifact("art", {"link": "y"})
        client.delete_task_run_artifact("art")
        assert [r.variables["input"] for r in api.requests] == [
            {"task_run_id": "tr", "kind": "link", "data": {"link": "x"}, "tenant_id": None},
            {"task_run_artifact_id": "art", "data": {"link": "y"}},
            {"task_run_artifact_id": "art"},
        ]
        with pytest.raises(ValueError):
            client.delete_task_run_artifact(None)  # type: ignore[arg-type]

    def test_task_tag_limits(self, api, client):
        api.reply_data(task_tag_limit=[{"limit": 3}])
        api.reply_data(task_tag_limit=[])
        api.reply_data(update_task_tag_limit={"id": "lim"})
        assert client.get_task_tag_limit("db") == 3
        assert client.get_task_tag_limit("none") is None
        client.update_task_tag_limit("db", 5)
        assert api.requests[2].variables == {"input": {"tag": "db", "limit": 5}}
        with pytest.raises(ValueError):
            client.update_task_tag_limit("db", -1)

    def test_set_secret(self, api, client):
        api.reply_data(set_secret={"success": True})
        client.set_secret("TOKEN", {"a": 1})
        assert api.requests[0].variables == {"input": {"name": "TOKEN", "value": {"a": 1}}}


def test_flow_register_builds_its_storage_and_sends_labels(api, tmp_path, capsys):
    pytest.importorskip("prefect.storage")
    pytest.importorskip("prefect.serialization.flow")

    @task
    def one():
        return 1

    @task
    def add(x, y):
        return x + y

    with Flow("built") as flow:
        add(one(), 2)
    answer_registration(api)
    api.reply_data(register_tasks={"success": True})
    api.reply_data(register_edges={"success": True})
    api.reply_data(flow_by_pk={"flow_group_id": "g-1"})
    api.reply_data(tenant=[{"id": "t-1"}])
    api.reply_data(tenant=[{"id": "t-1", "slug": "default"}])
    with set_temporary_config({"cloud.api": api.url, "home_dir": str(tmp_path)}):
        flow_id = flow.register(project_name="proj", labels=["gpu"], set_schedule_active=False)
    assert flow_id == "f-1"
    sent = decompress(api.requests[1].variables["input"]["serialized_flow"])
    assert sent["storage"]["type"] == "Local"
    assert str(tmp_path) in sent["storage"]["flows"]["built"]
    assert "gpu" in sent["run_config"]["labels"]
    (edges_request,) = [r for r in api.requests if "register_edges" in r.query]
    edges = edges_request.variables["input"]["serialized_edges"]
    assert [
        (e["upstream_task"]["slug"], e["downstream_task"]["slug"], e["key"]) for e in edges
    ] == [("one-1", "add-1", "x")]
    assert "Flow URL: http://ui:8080/default/flow/g-1" in capsys.readouterr().out
