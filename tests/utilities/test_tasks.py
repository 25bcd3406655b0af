"""Tests for `prefect.utilities.tasks`: `task`, `tags`, `as_task`, `defaults_from_attrs`,
`pause_task` and `apply_map`."""

from __future__ import annotations

import datetime
import inspect
import warnings

import pytest

import prefect
from prefect import Flow, Task, case
from prefect.engine import signals
from prefect.engine.state import Paused
from prefect.tasks.control_flow.conditional import CompareValue
from prefect.tasks.core import collections
from prefect.tasks.core.constants import Constant
from prefect.tasks.core.function import FunctionTask
from prefect.utilities import tasks
from prefect.utilities.edges import unmapped
from prefect.utilities.tasks import apply_map, as_task, defaults_from_attrs, pause_task, tags


@tasks.task
def inc(x):
    return x + 1


@tasks.task
def double(x):
    return 2 * x


@tasks.task
def add(x, y):
    return x + y


@tasks.task
def is_even(x):
    return x % 2 == 0


def _edges_to(flow, task):
    return {e.key: e for e in flow.edges_to(task)}


def _only(flow, name):
    (found,) = flow.get_tasks(name=name)
    return found


def test_module_exports_match_1x():
    assert sorted(tasks.__all__) == sorted(
        ["tags", "as_task", "pause_task", "task", "apply_map", "defaults_from_attrs"]
    )
    assert prefect.task is tasks.task
    assert prefect.tags is tasks.tags
    assert prefect.apply_map is tasks.apply_map


# @task -----------------------------------------------------------------------------------------


def test_task_decorator_without_arguments_makes_a_function_task():
    def my_fn(x):
        return x * 10

    t = tasks.task(my_fn)
    assert isinstance(t, FunctionTask)
    assert t.name == "my_fn"
    assert t.run(2) == 20


def test_task_decorator_applied_with_at_syntax():
    assert isinstance(inc, FunctionTask)
    assert inc.name == "inc"
    assert inc.run(1) == 2


def test_task_decorator_with_empty_parentheses():
    @tasks.task()
    def fn():
        return 3

    assert isinstance(fn, FunctionTask)
    assert fn.name == "fn"
    assert fn.run() == 3


def test_task_decorator_passes_task_arguments():
    @tasks.task(
        name="renamed",
        slug="my-slug",
        tags=["a", "b"],
        max_retries=2,
        retry_delay=datetime.timedelta(seconds=3),
        nout=2,
    )
    def fn():
        return 1, 2

    assert isinstance(fn, FunctionTask)
    assert fn.name == "renamed"
    assert fn.slug == "my-slug"
    assert fn.tags == {"a", "b"}
    assert fn.max_retries == 2
    assert fn.retry_delay == datetime.timedelta(seconds=3)
    assert fn.nout == 2
    assert fn.run() == (1, 2)


def test_task_decorator_rejects_unknown_task_arguments():
    with pytest.raises(TypeError):

        @tasks.task(not_a_task_argument=1)
        def fn():
            pass


def test_task_decorator_rejects_var_positional_functions():
    with pytest.raises(ValueError, match="args"):

        @tasks.task
        def fn(*args):
            pass


def test_decorated_task_called_in_a_flow_binds_a_copy():
    with Flow("f") as flow:
        result = add(1, y=2)
    assert result is not add
    assert flow.tasks == {result}
    assert flow.constants[result] == {"x": 1, "y": 2}


def test_task_decorator_inside_tags_block_tags_the_task():
    with tags("math"):

        @tasks.task
        def fn():
            pass

    assert fn.tags == {"math"}


# tags ----------------------------------------------------------------------------------------


def test_tags_are_added_to_tasks_created_inside_the_block():
    with tags("a", "b"):
        t = Task()
    assert t.tags == {"a", "b"}


def test_tags_are_merged_with_the_tasks_own_tags():
    with tags("a"):
        t = Task(tags=["own"])
    assert t.tags == {"a", "own"}


def test_nested_tags_accumulate_and_unwind():
    with tags("outer"):
        t1 = Task()
        with tags("inner", "second"):
            t2 = Task()
            assert prefect.context.tags == {"outer", "inner", "second"}
        t3 = Task()
        assert prefect.context.tags == {"outer"}
    t4 = Task()
    assert t1.tags == {"outer"}
    assert t2.tags == {"outer", "inner", "second"}
    assert t3.tags == {"outer"}
    assert t4.tags == set()
    assert "tags" not in prefect.context


def test_tags_are_restored_after_an_exception():
    with pytest.raises(RuntimeError):
        with tags("boom"):
            raise RuntimeError()
    assert "tags" not in prefect.context
    assert Task().tags == set()


def test_tags_apply_to_tasks_called_inside_the_block():
    base = Task()
    with Flow("f") as flow:
        with tags("called"):
            copy = base()
    assert copy.tags == {"called"}
    assert base.tags == set()
    assert copy in flow.tasks


def test_tags_with_no_arguments_changes_nothing():
    with tags():
        t = Task(tags=["x"])
    assert t.tags == {"x"}


# as_task ---------------------------------------------------------------------------------------


def test_as_task_returns_tasks_unchanged():
    t = Task()
    assert as_task(t) is t


def test_as_task_unwraps_edge_annotations():
    t = Task()
    assert as_task(unmapped(t)) is t


@pytest.mark.parametrize("value", [1, "a string", None, 3.5, {"a": 1}, [1, 2], (1, 2), {1, 2}])
def test_as_task_turns_plain_values_into_auto_generated_constants(value):
    t = as_task(value)
    assert isinstance(t, Constant)
    assert t.value == value
    assert t.auto_generated is True
    assert t.run() == value


def test_as_task_of_a_list_holding_a_task_is_a_list_task_bound_in_the_flow():
    flow = Flow("f")
    a = Task(name="a")
    result = as_task([a, 2], flow=flow)
    assert isinstance(result, collections.List)
    assert result.auto_generated is True
    assert result in flow.tasks
    edges = _edges_to(flow, result)
    assert set(edges) == {"arg_1"}
    assert edges["arg_1"].upstream_task is a
    assert flow.constants[result] == {"arg_2": 2}


@pytest.mark.parametrize(
    "make, cls",
    [(tuple, collections.Tuple), (lambda items: set(items), collections.Set)],
)
def test_as_task_of_tuples_and_sets_holding_tasks(make, cls):
    flow = Flow("f")
    a = Task(name="a")
    result = as_task(make([a]), flow=flow)
    assert isinstance(result, cls)
    assert flow.upstream_tasks(result) == {a}


def test_as_task_of_a_dict_holding_a_task_is_a_dict_task():
    flow = Flow("f")
    a = Task(name="a")
    result = as_task({"k": a, "j": 5}, flow=flow)
    assert isinstance(result, collections.Dict)
    assert flow.constants[result] == {"keys": ["k", "j"]}
    values_edge = _edges_to(flow, result)["values"]
    values_task = values_edge.upstream_task
    assert isinstance(values_task, collections.List)
    assert flow.upstream_tasks(values_task) == {a}
    assert flow.constants[values_task] == {"arg_2": 5}


def test_as_task_of_nested_collections_holding_tasks():
    flow = Flow("f")
    a = Task(name="a")
    outer = as_task([[a], 1], flow=flow)
    assert isinstance(outer, collections.List)
    (inner,) = flow.upstream_tasks(outer)
    assert isinstance(inner, collections.List)
    assert flow.upstream_tasks(inner) == {a}
    assert flow.constants[outer] == {"arg_2": 1}


def test_as_task_uses_the_active_flow_for_collections():
    a = Task(name="a")
    with Flow("f") as flow:
        result = as_task([a])
    assert result in flow.tasks
    assert a in flow.tasks


def test_as_task_inside_a_flow_block_does_not_warn_about_unused_tasks():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with Flow("f"):
            as_task(4)
            as_task([1, 2])


# defaults_from_attrs ---------------------------------------------------------------------------


class WithDefaults(Task):
    def __init__(self, a=None, b=None, **kwargs):
        self.a = a
        self.b = b
        super().__init__(**kwargs)

    @defaults_from_attrs("a", "b")
    def run(self, a=None, b=None, c=None):
        """Return the inputs."""
        return a, b, c


def test_defaults_from_attrs_fills_missing_arguments_from_attributes():
    t = WithDefaults(a=1, b=2)
    assert t.run() == (1, 2, None)


def test_defaults_from_attrs_prefers_given_arguments():
    t = WithDefaults(a=1, b=2)
    assert t.run(a=10) == (10, 2, None)
    assert t.run(a=10, b=20, c=30) == (10, 20, 30)


def test_defaults_from_attrs_replaces_explicit_none():
    t = WithDefaults(a=1, b=2)
    assert t.run(a=None, b=None) == (1, 2, None)


@pytest.mark.parametrize("falsy", [0, "", False, [], {}])
def test_defaults_from_attrs_keeps_falsy_non_none_arguments(falsy):
    t = WithDefaults(a=1, b=2)
    assert t.run(a=falsy) == (falsy, 2, None)


def test_defaults_from_attrs_reads_attributes_at_call_time():
    t = WithDefaults(a=1)
    t.a = "changed"
    assert t.run() == ("changed", None, None)


def test_defaults_from_attrs_keeps_the_run_signature_and_docs():
    t = WithDefaults()
    assert WithDefaults.run.__name__ == "run"
    assert WithDefaults.run.__doc__ == "Return the inputs."
    assert list(inspect.signature(t.run).parameters) == ["a", "b", "c"]


def test_task_with_defaults_from_attrs_binds_by_its_run_arguments():
    t = WithDefaults(a=1)
    with Flow("f") as flow:
        result = t(b=5)
    assert flow.constants[result] == {"b": 5}
    with pytest.raises(TypeError):
        with Flow("g"):
            t(not_an_argument=1)


# pause_task ------------------------------------------------------------------------------------


def test_pause_task_raises_pause_with_a_paused_state():
    with pytest.raises(signals.PAUSE) as exc:
        pause_task()
    assert isinstance(exc.value.state, Paused)
    assert exc.value.state.message == "Pause signal raised during task execution."


def test_pause_task_uses_the_given_message():
    with pytest.raises(signals.PAUSE, match="wait for approval") as exc:
        pause_task("wait for approval")
    assert exc.value.state.message == "wait for approval"


def test_pause_task_with_a_duration_sets_the_resume_time():
    before = datetime.datetime.now(datetime.timezone.utc)
    with pytest.raises(signals.PAUSE) as exc:
        pause_task(duration=datetime.timedelta(minutes=5))
    after = datetime.datetime.now(datetime.timezone.utc)
    start_time = exc.value.state.start_time
    assert before + datetime.timedelta(minutes=5) <= start_time
    assert start_time <= after + datetime.timedelta(minutes=5)


def test_pause_task_does_not_raise_when_resuming():
    with prefect.context(resume=True):
        assert pause_task() is None
        assert pause_task("message", duration=datetime.timedelta(seconds=1)) is None


def test_pause_task_raises_when_resume_is_false():
    with prefect.context(resume=False):
        with pytest.raises(signals.PAUSE):
            pause_task()


# apply_map -------------------------------------------------------------------------------------


def inc_then_double(x):
    return double(inc(x))


def test_apply_map_without_a_flow_raises_value_error():
    with pytest.raises(ValueError, match="flow"):
        apply_map(inc_then_double, [1, 2, 3])


def test_apply_map_maps_every_task_created_by_the_function():
    with Flow("f") as flow:
        result = apply_map(inc_then_double, [1, 2, 3])

    assert result.name == "double"
    inc_task = _only(flow, "inc")
    assert flow.tasks == {result, inc_task, flow.upstream_tasks(inc_task).pop()}

    list_edge = _edges_to(flow, inc_task)["x"]
    assert isinstance(list_edge.upstream_task, Constant)
    assert list_edge.upstream_task.value == [1, 2, 3]
    assert list_edge.mapped is True

    inner_edge = _edges_to(flow, result)["x"]
    assert inner_edge.upstream_task is inc_task
    assert inner_edge.mapped is True


def test_apply_map_with_an_explicit_flow():
    flow = Flow("f")
    result = apply_map(inc_then_double, [1, 2], flow=flow)
    assert result in flow.tasks
    assert all(edge.mapped for edge in flow.edges)
    assert len(flow.edges) == 2


def test_apply_map_over_a_task_input_maps_its_edge():
    numbers = Task(name="numbers")
    with Flow("f") as flow:
        result = apply_map(inc_then_double, numbers)
    inc_task = _only(flow, "inc")
    edge = _edges_to(flow, inc_task)["x"]
    assert edge.upstream_task is numbers
    assert edge.mapped is True
    assert flow.tasks == {numbers, inc_task, result}


def test_apply_map_passes_an_unmapped_task_as_an_unmapped_edge():
    numbers, offset = Task(name="numbers"), Task(name="offset")
    with Flow("f") as flow:
        result = apply_map(lambda x, y: add(x, y), numbers, unmapped(offset))
    edges = _edges_to(flow, result)
    assert edges["x"].upstream_task is numbers
    assert edges["x"].mapped is True
    assert edges["y"].upstream_task is offset
    assert edges["y"].mapped is False


def test_apply_map_stores_an_unmapped_plain_value_as_a_constant():
    with Flow("f") as flow:
        result = apply_map(lambda x, y: add(x, y), [1, 2], unmapped(10))
    assert flow.constants[result] == {"y": 10}
    edges = _edges_to(flow, result)
    assert set(edges) == {"x"}
    assert edges["x"].mapped is True


def test_apply_map_accepts_keyword_arguments():
    numbers = Task(name="numbers")
    with Flow("f") as flow:
        result = apply_map(lambda x, y: add(x, y), x=numbers, y=unmapped(3))
    assert flow.constants[result] == {"y": 3}
    assert _edges_to(flow, result)["x"].upstream_task is numbers
    assert _edges_to(flow, result)["x"].mapped is True


def test_apply_map_keeps_constants_set_inside_the_function():
    with Flow("f") as flow:
        result = apply_map(lambda x: add(x, 100), [1, 2])
    assert flow.constants[result] == {"y": 100}
    assert _edges_to(flow, result)["x"].mapped is True


def test_apply_map_returns_what_the_function_returns():
    def two_results(x):
        return inc(x), double(x)

    with Flow("f") as flow:
        first, second = apply_map(two_results, [1, 2])
    assert {first.name, second.name} == {"inc", "double"}
    assert {first, second} <= flow.tasks


def test_apply_map_over_a_list_holding_tasks_keeps_the_list_inputs():
    a, b = Task(name="a"), Task(name="b")
    with Flow("f") as flow:
        result = apply_map(inc_then_double, [a, b])
    inc_task = _only(flow, "inc")
    list_task = _edges_to(flow, inc_task)["x"].upstream_task
    assert isinstance(list_task, collections.List)
    assert flow.upstream_tasks(list_task) == {a, b}
    assert result in flow.tasks
    flow.validate()


def test_apply_map_leaves_the_outer_flow_active():
    with Flow("f") as flow:
        apply_map(inc_then_double, [1])
        assert prefect.context.flow is flow
        later = inc(5)
    assert later in flow.tasks
    assert not any(e.mapped for e in flow.edges_to(later))


def test_apply_map_does_not_warn_about_unused_tasks():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with Flow("f"):
            apply_map(inc_then_double, [1, 2])


def test_apply_map_with_case_inside_the_function_maps_the_condition():
    def inc_if_even(x):
        cond = is_even(x)
        with case(cond, True):
            result = inc(x)
        return result

    with Flow("f") as flow:
        result = apply_map(inc_if_even, [1, 2, 3])

    (gate,) = flow.get_tasks(task_type=CompareValue)
    cond = _only(flow, "is_even")
    assert result.name == "inc"

    gate_edges = _edges_to(flow, gate)
    assert gate_edges["value"].upstream_task is cond
    assert gate_edges["value"].mapped is True

    # Every edge into a task created by the function is mapped: each child has its own case.
    for task in (cond, gate, result):
        assert flow.edges_to(task)
        assert all(e.mapped for e in flow.edges_to(task)), task
    assert gate in flow.upstream_tasks(result)
    assert "case" not in prefect.context


def test_apply_map_inside_a_case_block_puts_the_mapped_tasks_in_the_block():
    flag = Task(name="flag")
    with Flow("f") as flow:
        with case(flag, True):
            result = apply_map(inc_then_double, [1, 2])

    (gate,) = flow.get_tasks(task_type=CompareValue)
    assert flow.upstream_tasks(gate) == {flag}

    def ancestors(task):
        seen, stack = set(), [task]
        while stack:
            for up in flow.upstream_tasks(stack.pop()):
                if up not in seen:
                    seen.add(up)
                    stack.append(up)
        return seen

    assert gate in ancestors(result)
    assert gate in ancestors(_only(flow, "inc"))
