import inspect
import logging
from datetime import timedelta
from typing import Any, Tuple

import pytest

import prefect
from prefect import Flow, Parameter, Task, task
from prefect.core.task import EXTRA_CALL_PARAMETERS, NoDefault
from prefect.engine import cache_validators
from prefect.engine.result import Result
from prefect.tasks.core import operators
from prefect.tasks.core.constants import Constant
from prefect.utilities.configuration import set_temporary_config
from prefect.utilities.edges import flatten, unmapped

# Tests that fail mid-build leave copies unused on purpose; that warning is tested elsewhere.
pytestmark = pytest.mark.filterwarnings("ignore:Tasks were created but not added")


class AddTask(Task):
    def run(self, x, y=1):
        return x + y


class NoArgs(Task):
    def run(self):
        return 1


# Construction -------------------------------------------------------------------------------


def test_task_name_defaults_to_class_name():
    assert AddTask().name == "AddTask"
    assert Task().name == "Task"
    assert AddTask(name="adder").name == "adder"


def test_task_defaults_match_1x():
    t = Task()
    assert t.slug is None
    assert t.tags == set()
    assert t.max_retries == 0
    assert t.retry_delay is None
    assert t.timeout is None
    assert t.trigger is prefect.triggers.all_successful
    assert t.skip_on_upstream_skip is True
    assert t.cache_for is None
    assert t.cache_key is None
    assert t.cache_validator is cache_validators.never_use
    assert t.checkpoint is None
    assert t.state_handlers == []
    assert t.log_stdout is False
    assert t.result is None
    assert t.target is None
    assert t.task_run_name is None
    assert t.nout is None
    assert t.auto_generated is False


def test_task_logger_is_named_after_the_task():
    t = Task(name="load")
    assert isinstance(t.logger, logging.Logger)
    assert t.logger.name == "prefect.load"


def test_task_tags_from_argument_and_tags_context():
    with prefect.tags("outer"):
        t = Task(tags=["mine"])
    assert t.tags == {"outer", "mine"}


def test_task_tags_given_as_a_string_are_refused():
    with pytest.raises(TypeError, match="Tags should be"):
        Task(tags="abc")


def test_retries_need_a_retry_delay():
    with pytest.raises(ValueError, match="retry_delay"):
        Task(max_retries=2)


def test_retry_delay_needs_retries():
    with pytest.raises(ValueError, match="max_retries"):
        Task(retry_delay=timedelta(seconds=1))


def test_retry_delay_must_be_a_timedelta():
    with pytest.raises(TypeError, match="timedelta"):
        Task(max_retries=1, retry_delay=5)


def test_retries_with_a_delay_are_kept():
    t = Task(max_retries=3, retry_delay=timedelta(seconds=2))
    assert t.max_retries == 3
    assert t.retry_delay == timedelta(seconds=2)


def test_retry_defaults_come_from_config():
    with set_temporary_config(
        {"tasks.defaults.max_retries": 2, "tasks.defaults.retry_delay": timedelta(seconds=3)}
    ):
        t = Task()
    assert t.max_retries == 2
    assert t.retry_delay == timedelta(seconds=3)


def test_retry_on_accepts_one_type_or_many():
    assert Task(retry_on=ValueError).retry_on == {ValueError}
    assert Task(retry_on=[ValueError, KeyError]).retry_on == {ValueError, KeyError}


def test_retry_on_refuses_non_exception_types():
    with pytest.raises(TypeError, match="retry_on"):
        Task(retry_on=[ValueError, "KeyError"])


def test_timeout_timedelta_becomes_seconds():
    assert Task(timeout=timedelta(minutes=2)).timeout == 120
    assert Task(timeout=7).timeout == 7


def test_timeout_with_subsecond_part_warns_and_is_truncated():
    with pytest.warns(UserWarning, match="sub-second"):
        t = Task(timeout=timedelta(seconds=1, milliseconds=500))
    assert t.timeout == 1


def test_timeout_must_be_an_integer():
    with pytest.raises(TypeError, match="integer timeouts"):
        Task(timeout=1.5)


def test_cache_for_switches_the_default_validator_to_duration_only():
    t = Task(cache_for=timedelta(hours=1))
    assert t.cache_validator is cache_validators.duration_only


def test_cache_validator_without_cache_for_warns():
    with pytest.warns(UserWarning, match="cache_for"):
        Task(cache_validator=cache_validators.all_inputs)


def test_state_handlers_must_be_a_sequence():
    with pytest.raises(TypeError, match="state_handlers should be iterable"):
        Task(state_handlers=lambda *a: None)


def test_on_failure_adds_a_state_handler_that_fires_only_on_failure():
    from prefect.engine.state import Failed, Success

    calls = []
    t = Task(on_failure=lambda task, state: calls.append((task, state)))
    assert len(t.state_handlers) == 1
    handler = t.state_handlers[0]
    success, failed = Success(), Failed("boom")
    assert handler(t, None, success) is success
    assert calls == []
    assert handler(t, None, failed) is failed
    assert calls == [(t, failed)]


def test_target_replaces_the_result_location():
    result = Result(location="{task_name}.txt")
    with pytest.warns(UserWarning, match="target"):
        t = Task(result=result, target="out.txt")
    assert t.result.location == "out.txt"
    assert result.location == "{task_name}.txt"


def test_nout_is_inferred_from_a_tuple_return_annotation():
    class Pair(Task):
        def run(self) -> Tuple[int, str]:
            return 1, "a"

    class Builtin(Task):
        def run(self) -> tuple[int, int, int]:
            return 1, 2, 3

    class Variable(Task):
        def run(self) -> Tuple[int, ...]:
            return (1,)

    assert Pair().nout == 2
    assert Builtin().nout == 3
    assert Variable().nout is None
    assert Pair(nout=5).nout == 5


def test_run_with_varargs_is_refused_at_class_creation():
    with pytest.raises(ValueError, match=r"\*args"):

        class Bad(Task):
            def run(self, *args):
                pass


@pytest.mark.parametrize("reserved", ["upstream_tasks", "mapped", "task_args", "flow"])
def test_run_with_a_reserved_argument_name_is_refused(reserved):
    namespace: dict[str, Any] = {}
    exec(f"def run(self, {reserved}): pass", namespace)
    with pytest.raises(ValueError, match=reserved):
        type("Bad", (Task,), {"run": namespace["run"]})


def test_passing_a_task_to_init_warns():
    class WithInit(Task):
        def __init__(self, value=None, **kwargs):
            self.value = value
            super().__init__(**kwargs)

    with pytest.warns(UserWarning, match="A Task was passed as an argument to WithInit"):
        WithInit(Task())


def test_init_signature_is_preserved_through_the_metaclass():
    params = list(inspect.signature(Task.__init__).parameters)
    assert params[:4] == ["self", "name", "slug", "tags"]
    assert params[-1] == "nout"


def test_task_signature_shows_run_inputs_and_call_parameters():
    sig = inspect.signature(AddTask())
    names = list(sig.parameters)
    assert names[:2] == ["x", "y"]
    assert set(names[2:]) == {p.name for p in EXTRA_CALL_PARAMETERS}
    assert {p.name for p in EXTRA_CALL_PARAMETERS} == {
        "mapped",
        "task_args",
        "upstream_tasks",
        "flow",
    }


def test_no_default_sentinel():
    assert NoDefault.value.value == "no_default"


# inputs / outputs ---------------------------------------------------------------------------


def test_inputs_describe_run_arguments():
    class Typed(Task):
        def run(self, a: int, b: str = "x", **kwargs):
            pass

    # As in 1.x, a `**kwargs` parameter is listed too (it has no default).
    assert Typed().inputs() == {
        "a": {"type": int, "required": True, "default": None},
        "b": {"type": str, "required": False, "default": "x"},
        "kwargs": {"type": Any, "required": True, "default": None},
    }
    assert AddTask().inputs()["x"] == {"type": Any, "required": True, "default": None}


def test_outputs_is_the_return_annotation():
    class Typed(Task):
        def run(self) -> int:
            return 1

    assert Typed().outputs() is int
    assert AddTask().outputs() is Any


# copy ---------------------------------------------------------------------------------------


def test_copy_is_a_new_task_with_changed_attributes():
    t = AddTask(name="a", tags=["x"])
    c = t.copy(name="b", max_retries=1, retry_delay=timedelta(seconds=1))
    assert c is not t
    assert (c.name, c.max_retries) == ("b", 1)
    assert t.name == "a"
    assert c.tags == {"x"}
    c.tags.add("y")
    assert t.tags == {"x"}


def test_copy_with_an_unknown_attribute_fails():
    with pytest.raises(AttributeError, match="not a valid attribute"):
        Task().copy(nonsense=1)


def test_copy_of_a_slugged_task_gets_a_new_slug():
    assert Task(slug="s").copy().slug == "s-copy"
    assert Task(slug="s").copy(slug="t").slug == "t"


def test_copy_adds_tags_of_the_tags_context():
    t = Task(tags=["a"])
    with prefect.tags("b"):
        c = t.copy()
    assert c.tags == {"a", "b"}


def test_copy_of_a_task_with_dependencies_in_the_active_flow_warns():
    with Flow("f"):
        a = AddTask()(NoArgs()())
        with pytest.warns(UserWarning, match="will not retain those dependencies"):
            a.copy()


# call / bind -----------------------------------------------------------------------------------


def test_calling_a_task_binds_a_copy_in_the_active_flow():
    template = AddTask()
    with Flow("f") as flow:
        x = Parameter("x")
        t = template(x, y=2)
    assert t is not template
    assert template not in flow.tasks
    assert flow.tasks == {x, t}
    (edge,) = flow.edges
    assert (edge.upstream_task, edge.downstream_task, edge.key) == (x, t, "x")
    assert flow.constants[t] == {"y": 2}


def test_call_task_args_are_set_on_the_copy():
    with Flow("f") as flow:
        t = AddTask()(1, task_args=dict(name="custom", tags=["t"]))
    assert t.name == "custom"
    assert "t" in t.tags
    assert t in flow.tasks


def test_call_with_upstream_tasks_adds_dataless_edges():
    with Flow("f") as flow:
        a = NoArgs()()
        b = NoArgs()(upstream_tasks=[a])
    (edge,) = flow.edges
    assert (edge.upstream_task, edge.downstream_task, edge.key) == (a, b, None)


def test_call_with_missing_required_argument_raises_type_error():
    with Flow("f"):
        with pytest.raises(TypeError, match="x"):
            AddTask()(y=1)


def test_call_with_unknown_argument_raises_type_error():
    with Flow("f"):
        with pytest.raises(TypeError):
            AddTask()(1, z=3)


def test_bind_outside_a_flow_explains_how_to_run_the_function():
    with pytest.raises(ValueError, match=r"Could not infer an active Flow context"):
        AddTask().bind(1)

    @task
    def my_fn(x):
        return x

    with pytest.raises(ValueError, match=r"my_fn\.run"):
        my_fn(1)


def test_bind_binds_the_task_itself():
    t = AddTask()
    flow = Flow("f")
    assert t.bind(1, flow=flow) is t
    assert t in flow.tasks
    assert flow.constants[t] == {"x": 1}


def test_var_keyword_inputs_are_expanded_into_keys():
    class Kw(Task):
        def run(self, **kwargs):
            return kwargs

    with Flow("f") as flow:
        a = NoArgs()()
        k = Kw()(a=a, b=2)
    assert {e.key for e in flow.edges_to(k)} == {"a"}
    assert flow.constants[k] == {"b": 2}


def test_bind_adds_tags_of_the_tags_context():
    with Flow("f"):
        with prefect.tags("ctx"):
            t = NoArgs()()
    assert "ctx" in t.tags


def test_call_with_mapped_true_maps_every_input():
    with Flow("f") as flow:
        a = Parameter("a")
        t = AddTask()(a, y=[1, 2], mapped=True)
    edges = {e.key: e for e in flow.edges_to(t)}
    assert edges["x"].mapped and edges["y"].mapped
    assert isinstance(edges["y"].upstream_task, Constant)
    assert edges["y"].upstream_task.value == [1, 2]


# map ------------------------------------------------------------------------------------------


def test_map_creates_mapped_edges_and_unmapped_constants():
    with Flow("f") as flow:
        xs = Parameter("xs")
        m = AddTask().map(xs, y=unmapped(10))
    (edge,) = flow.edges_to(m)
    assert edge.mapped is True and edge.key == "x"
    assert flow.constants[m] == {"y": 10}


def test_map_with_unmapped_task_input():
    with Flow("f") as flow:
        xs = Parameter("xs")
        y = Parameter("y")
        m = AddTask().map(xs, unmapped(y))
    edges = {e.key: e for e in flow.edges_to(m)}
    assert edges["x"].mapped is True
    assert edges["y"].mapped is False


def test_map_with_flatten_marks_the_edge_flattened():
    with Flow("f") as flow:
        xs = Parameter("xs")
        m = AddTask().map(flatten(xs))
    (edge,) = flow.edges_to(m)
    assert edge.mapped and edge.flattened


def test_map_over_an_unsubscriptable_value_fails():
    with Flow("f"):
        with pytest.raises(TypeError, match="Cannot map over unsubscriptable object"):
            AddTask().map(5)


def test_map_upstream_tasks_are_mapped_unless_unmapped():
    with Flow("f") as flow:
        a = Parameter("a")
        b = Parameter("b")
        m = NoArgs().map(upstream_tasks=[a, unmapped(b)])
    edges = {e.upstream_task: e for e in flow.edges_to(m)}
    assert edges[a].mapped is True
    assert edges[b].mapped is False


def test_map_task_args():
    with Flow("f"):
        m = AddTask().map([1, 2], task_args={"name": "mapped-add"})
    assert m.name == "mapped-add"


# dependencies -----------------------------------------------------------------------------


def test_set_upstream_and_downstream():
    flow = Flow("f")
    a, b, c = NoArgs(), AddTask(), NoArgs()
    assert b.set_upstream(a, flow=flow, key="x") is b
    assert b.set_downstream(c, flow=flow) is b
    assert flow.upstream_tasks(b) == {a}
    assert flow.downstream_tasks(b) == {c}
    assert {e.key for e in flow.edges_to(b)} == {"x"}


def test_set_upstream_mapped():
    flow = Flow("f")
    a, b = NoArgs(), AddTask()
    b.set_upstream(a, flow=flow, key="x", mapped=True)
    (edge,) = flow.edges
    assert edge.mapped


def test_set_dependencies_uses_the_active_flow_or_fails():
    with pytest.raises(ValueError, match="No Flow was passed"):
        Task().set_dependencies(upstream_tasks=[Task()])
    with Flow("f") as flow:
        a, b = Task(), Task()
        b.set_dependencies(upstream_tasks=[a])
    assert flow.upstream_tasks(b) == {a}


def test_pipe_calls_the_task_with_self_first():
    with Flow("f") as flow:
        a = NoArgs()()
        b = a.pipe(AddTask(), y=5)
    assert flow.upstream_tasks(b) == {a}
    assert flow.constants[b] == {"y": 5}


# operators ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, op_cls, swapped",
    [
        (lambda a: a + 1, operators.Add, False),
        (lambda a: 1 + a, operators.Add, True),
        (lambda a: a - 1, operators.Sub, False),
        (lambda a: 1 - a, operators.Sub, True),
        (lambda a: a * 1, operators.Mul, False),
        (lambda a: 1 * a, operators.Mul, True),
        (lambda a: a / 1, operators.Div, False),
        (lambda a: 1 / a, operators.Div, True),
        (lambda a: a // 1, operators.FloorDiv, False),
        (lambda a: 1 // a, operators.FloorDiv, True),
        (lambda a: a % 1, operators.Mod, False),
        (lambda a: 1 % a, operators.Mod, True),
        (lambda a: a**1, operators.Pow, False),
        (lambda a: 1**a, operators.Pow, True),
        (lambda a: a & 1, operators.And, False),
        (lambda a: 1 & a, operators.And, True),
        (lambda a: a > 1, operators.GreaterThan, False),
        (lambda a: a >= 1, operators.GreaterThanOrEqual, False),
        (lambda a: a < 1, operators.LessThan, False),
        (lambda a: a <= 1, operators.LessThanOrEqual, False),
        (lambda a: a.is_equal(1), operators.Equal, False),
        (lambda a: a.is_not_equal(1), operators.NotEqual, False),
        (lambda a: a.or_(1), operators.Or, False),
    ],
)
def test_operators_create_operator_tasks(build, op_cls, swapped):
    with Flow("f") as flow:
        a = NoArgs()()
        result = build(a)
    assert isinstance(result, op_cls)
    (edge,) = flow.edges_to(result)
    assert edge.upstream_task is a
    assert edge.key == ("y" if swapped else "x")
    assert flow.constants[result] == {("x" if swapped else "y"): 1}


def test_not_creates_a_not_task():
    with Flow("f") as flow:
        a = NoArgs()()
        n = a.not_()
    assert isinstance(n, operators.Not)
    assert flow.upstream_tasks(n) == {a}


def test_equality_between_tasks_is_identity_not_a_task():
    a, b = Task(), Task()
    assert (a == a) is True
    assert (a == b) is False
    assert len({a, b, a}) == 2


def test_or_operator_sets_a_dependency():
    with Flow("f") as flow:
        a, b, c = NoArgs(), NoArgs(), NoArgs()
        result = a | b | c
    assert result is c
    assert flow.upstream_tasks(b) == {a}
    assert flow.upstream_tasks(c) == {b}


def test_getitem_creates_a_named_getitem_task():
    with Flow("f") as flow:
        a = NoArgs()()
        item = a["key"]
    assert isinstance(item, operators.GetItem)
    assert item.name == "NoArgs['key']"
    assert flow.constants[item] == {"key": "key"}


def test_iterating_a_task_with_nout_unpacks_getitems():
    @task(nout=2)
    def pair():
        return 1, 2

    with Flow("f") as flow:
        a, b = pair()
    assert isinstance(a, operators.GetItem) and isinstance(b, operators.GetItem)
    assert flow.constants[a] == {"key": 0}
    assert flow.constants[b] == {"key": 1}


def test_iterating_a_task_without_nout_fails():
    with Flow("f"):
        t = NoArgs()()
        with pytest.raises(TypeError, match="not iterable"):
            list(t)


def test_task_repr():
    assert repr(Task(name="x")) == "<Task: x>"


def test_task_pickles_with_its_attributes():
    import cloudpickle

    t = AddTask(name="adder", tags=["a"], max_retries=1, retry_delay=timedelta(seconds=1))
    copy = cloudpickle.loads(cloudpickle.dumps(t))
    assert (copy.name, copy.tags, copy.max_retries) == ("adder", {"a"}, 1)
    assert copy.run(1, 2) == 3


# @task --------------------------------------------------------------------------------------


def test_task_decorator_without_and_with_arguments():
    @task
    def plain(x):
        return x

    @task(name="named", max_retries=1, retry_delay=timedelta(seconds=1))
    def configured(x):
        return x * 2

    assert plain.name == "plain"
    assert plain.run(3) == 3
    assert configured.name == "named"
    assert configured.max_retries == 1
    assert configured.run(3) == 6


def test_task_decorator_refuses_varargs():
    with pytest.raises(ValueError, match=r"\*args"):

        @task
        def bad(*args):
            pass
