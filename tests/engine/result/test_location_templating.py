"""Result locations as templates: `Result.format`, and how a flow run fills them in and
decides whether to write results at all (`flows.checkpointing` and `Task(checkpoint=...)`)."""

from __future__ import annotations

import pickle

import pytest

import prefect
from prefect import Flow, Parameter, task
from prefect.engine.result import Result
from prefect.engine.results import LocalResult
from prefect.engine.serializers import JSONSerializer
from prefect.utilities.configuration import set_temporary_config

# ------------------------------------------------------------------------- Result.format


def test_format_fills_fields_from_keyword_arguments_and_keeps_the_template():
    template = Result(location="{flow_name}/{task_name}/{map_index}.pkl")
    formatted = template.format(flow_name="etl", task_name="load", map_index=2, unused=1)
    assert formatted.location == "etl/load/2.pkl"
    assert template.location == "{flow_name}/{task_name}/{map_index}.pkl"
    assert formatted is not template


def test_format_supports_format_specs_and_attribute_access():
    import datetime

    template = Result(location="{today:%Y}/{run.id}-{n:03d}")

    class Run:
        id = "abc"

    formatted = template.format(today=datetime.date(2024, 5, 6), run=Run(), n=7)
    assert formatted.location == "2024/abc-007"


def test_missing_key_error_names_the_key_and_the_template():
    with pytest.raises(KeyError) as info:
        Result(location="{flow_name}/{foo}.pkl").format(flow_name="etl")
    message = str(info.value)
    assert message.startswith("Missing key 'foo' in the location template '{flow_name}/{foo}.pkl'")
    assert "prefect.context" in message
    assert info.value.key == "foo"  # type: ignore[attr-defined]
    assert info.value.template == "{flow_name}/{foo}.pkl"  # type: ignore[attr-defined]


def test_missing_key_error_survives_pickling():
    with pytest.raises(KeyError) as info:
        Result(location="{foo}").format()
    restored = pickle.loads(pickle.dumps(info.value))
    assert isinstance(restored, KeyError)
    assert str(restored) == str(info.value)
    assert restored.key == "foo"  # type: ignore[attr-defined]


def test_callable_location_gets_the_same_keyword_arguments():
    seen: dict = {}

    def location(**kwargs):
        seen.update(kwargs)
        return f"{kwargs['task_name']}-{kwargs['x']}.out"

    result = Result(location=location)
    assert result.location is None
    assert result.format(task_name="t", x=1).location == "t-1.out"
    assert seen == {"task_name": "t", "x": 1}
    # The callable stays with copies: every write calls it again.
    assert result.copy().format(task_name="u", x=2).location == "u-2.out"


def test_a_plain_location_is_kept_as_it_is():
    assert Result(location="fixed.pkl").format(task_name="t").location == "fixed.pkl"


# ------------------------------------------------------------------- flows and results


@pytest.fixture
def results_dir(tmp_path):
    # Not `tmp_path` itself: the test home directory lives there too.
    path = tmp_path / "results"
    path.mkdir()
    return path


def test_flow_fills_the_location_from_context_parameters_and_inputs(results_dir):
    @task(result=LocalResult(dir=str(results_dir), location="{flow_name}/{task_name}-{x}-{p}.json"))
    def add_one(x, p):
        return x + 1

    with Flow("templating") as flow:
        p = Parameter("p", default="P")
        add_one(41, p)

    with set_temporary_config({"flows.checkpointing": True}):
        state = flow.run()
    [the_task] = flow.get_tasks(name="add_one")
    task_state = state.result[the_task]
    expected = results_dir / "templating" / "add_one-41-P.json"
    assert task_state._result.location == str(expected)
    assert expected.exists()
    assert task_state._result.read(str(expected)).value == 42


def test_mapped_children_get_their_own_locations(results_dir):
    @task(result=LocalResult(dir=str(results_dir), location="{task_name}-{map_index}.pkl"))
    def double(x):
        return 2 * x

    with Flow("mapped") as flow:
        double.map([1, 2, 3])

    with set_temporary_config({"flows.checkpointing": True}):
        state = flow.run()
    assert state.is_successful()
    assert sorted(p.name for p in results_dir.iterdir()) == [
        "double-0.pkl",
        "double-1.pkl",
        "double-2.pkl",
    ]
    [the_task] = flow.get_tasks(name="double")
    children = state.result[the_task].map_states
    assert [child.result for child in children] == [2, 4, 6]
    assert children[2]._result.location == str(results_dir / "double-2.pkl")


def test_a_missing_template_key_fails_the_task_and_says_which(results_dir):
    @task(result=LocalResult(dir=str(results_dir), location="{not_a_key}.pkl"))
    def one():
        return 1

    with Flow("missing") as flow:
        one()

    with set_temporary_config({"flows.checkpointing": True}):
        state = flow.run()
    [the_task] = flow.get_tasks()
    task_state = state.result[the_task]
    assert task_state.is_failed()
    assert "Missing key 'not_a_key'" in task_state.message
    assert list(results_dir.iterdir()) == []


# ------------------------------------------------------------------------- checkpointing


def checkpoint_flow(results_dir, checkpoint):
    @task(
        result=LocalResult(
            dir=str(results_dir), location="{task_name}.json", serializer=JSONSerializer()
        ),
        checkpoint=checkpoint,
    )
    def produce():
        return {"made": True}

    with Flow("checkpointing") as flow:
        produce()
    return flow


@pytest.mark.parametrize(
    ("config_value", "checkpoint", "written"),
    [
        (False, None, False),
        (False, True, False),
        (True, None, True),
        (True, True, True),
        (True, False, False),
    ],
)
def test_results_are_written_only_when_checkpointing_allows(
    results_dir, config_value, checkpoint, written
):
    flow = checkpoint_flow(results_dir, checkpoint)
    with set_temporary_config({"flows.checkpointing": config_value}):
        state = flow.run()
    assert state.is_successful()
    [the_task] = flow.get_tasks()
    task_state = state.result[the_task]
    assert task_state.result == {"made": True}
    assert (results_dir / "produce.json").exists() is written
    if written:
        assert (results_dir / "produce.json").read_bytes() == b'{"made": true}'
        assert task_state._result.location == str(results_dir / "produce.json")
    else:
        assert task_state._result.location is None


def test_checkpointing_in_context_wins_over_the_config(results_dir):
    flow = checkpoint_flow(results_dir, None)
    with set_temporary_config({"flows.checkpointing": False}):
        with prefect.context(checkpointing=True):
            flow.run()
    assert (results_dir / "produce.json").exists()


def test_none_values_are_not_written(results_dir):
    @task(result=LocalResult(dir=str(results_dir), location="{task_name}.pkl"))
    def nothing():
        return None

    with Flow("none") as flow:
        nothing()

    with set_temporary_config({"flows.checkpointing": True}):
        assert flow.run().is_successful()
    assert list(results_dir.iterdir()) == []


# ------------------------------------------------------------------------------- targets


def test_local_target_is_reused_without_running_the_task(results_dir):
    calls: list[int] = []

    @task(result=LocalResult(dir=str(results_dir)), target="{task_name}-{x}")
    def work(x):
        calls.append(x)
        return x * 100

    with Flow("target") as flow:
        work(7)

    with set_temporary_config({"flows.checkpointing": True}):
        first = flow.run()
        second = flow.run()
    [the_task] = flow.get_tasks()
    assert calls == [7]
    assert (results_dir / "work-7").exists()
    assert first.result[the_task].result == 700
    cached = second.result[the_task]
    assert cached.is_cached()
    assert cached.result == 700


def test_callable_target_is_called_with_the_formatting_values(results_dir):
    calls: list[int] = []

    def target(**kwargs):
        return f"by-callable/{kwargs['task_name']}-{kwargs['x']}"

    @task(result=LocalResult(dir=str(results_dir)), target=target)
    def work(x):
        calls.append(x)
        return x

    with Flow("callable-target") as flow:
        work(3)

    with set_temporary_config({"flows.checkpointing": True}):
        flow.run()
        second = flow.run()
    assert (results_dir / "by-callable" / "work-3").exists()
    assert calls == [3]
    assert second.result[flow.get_tasks()[0]].is_cached()


def test_flow_result_is_used_by_tasks_without_their_own(results_dir):
    other = results_dir / "own"

    @task
    def shared():
        return "from-flow-result"

    @task(result=LocalResult(dir=str(other), location="own.pkl"))
    def own():
        return "from-own-result"

    flow = Flow(
        "flow-result",
        tasks=[shared, own],
        result=LocalResult(dir=str(results_dir), location="{task_name}.pkl"),
    )
    with set_temporary_config({"flows.checkpointing": True}):
        state = flow.run()
    assert state.is_successful()
    assert (results_dir / "shared.pkl").exists()
    assert (other / "own.pkl").exists()
    assert not (results_dir / "own.pkl").exists()
