from __future__ import annotations

import pytest

import prefect
from prefect import Flow
from prefect.core.edge import Edge
from prefect.engine import signals
from prefect.engine.state import Failed, Pending, Running, Skipped, Success, TriggerFailed
from prefect.tasks.core.function import FunctionTask
from prefect.tasks.core.resource_manager import (
    ResourceCleanupTask,
    ResourceContext,
    ResourceInitTask,
    ResourceManager,
    ResourceSetupTask,
    resource_cleanup_trigger,
    resource_manager,
)


class MyResource:
    """A resource for tests."""

    def __init__(self, a, b=2):
        self.a = a
        self.b = b
        self.cleaned_up_with = []

    def setup(self):
        return self.a + self.b

    def cleanup(self, resource):
        self.cleaned_up_with.append(resource)


class NoSetupResource:
    def __init__(self):
        self.cleanups = 0

    def cleanup(self):
        self.cleanups += 1


def _identity(x=None):
    return x


def _task(name):
    return FunctionTask(_identity, name=name)


def _upstream(flow, task):
    return {(e.upstream_task, e.key) for e in flow.edges_to(task)}


def _tasks_by_type(flow, cls):
    found = [t for t in flow.tasks if isinstance(t, cls)]
    assert len(found) == 1, found
    return found[0]


class TestDecorator:
    def test_decorator_without_arguments_makes_a_manager(self):
        manager = resource_manager(MyResource)
        assert isinstance(manager, ResourceManager)
        assert manager.resource_class is MyResource
        assert manager.name == "MyResource"
        assert manager.__doc__ == "A resource for tests."

    def test_decorator_with_arguments_makes_a_manager(self):
        decorate = resource_manager(
            name="thing",
            init_task_kwargs={"tags": ["i"]},
            setup_task_kwargs={"max_retries": 0},
            cleanup_task_kwargs={"name": "bye"},
        )
        manager = decorate(MyResource)
        assert isinstance(manager, ResourceManager)
        assert manager.name == "thing"
        assert manager.init_task_kwargs == {"tags": ["i"], "name": "thing", "checkpoint": False}
        assert manager.setup_task_kwargs == {
            "max_retries": 0,
            "name": "thing.setup",
            "checkpoint": False,
        }
        assert manager.cleanup_task_kwargs["name"] == "bye"

    def test_default_task_kwargs(self):
        manager = ResourceManager(MyResource)
        assert manager.init_task_kwargs == {"name": "MyResource", "checkpoint": False}
        assert manager.setup_task_kwargs == {"name": "MyResource.setup", "checkpoint": False}
        assert manager.cleanup_task_kwargs == {
            "name": "MyResource.cleanup",
            "trigger": resource_cleanup_trigger,
            "skip_on_upstream_skip": False,
            "checkpoint": False,
        }

    def test_given_task_kwargs_are_not_mutated(self):
        kwargs = {"tags": ["x"]}
        ResourceManager(MyResource, init_task_kwargs=kwargs)
        assert kwargs == {"tags": ["x"]}

    def test_resource_class_without_cleanup_is_rejected(self):
        class NoCleanup:
            def setup(self):
                return 1

        with pytest.raises(TypeError, match="cleanup"):
            resource_manager(NoCleanup)

    def test_non_callable_is_rejected(self):
        with pytest.raises(TypeError, match="callable"):
            ResourceManager(42)


class TestGraph:
    def test_creates_init_setup_and_cleanup_tasks(self):
        manager = resource_manager(MyResource)
        with Flow("f") as flow:
            context = manager(1, b=3)
        init = _tasks_by_type(flow, ResourceInitTask)
        setup = _tasks_by_type(flow, ResourceSetupTask)
        cleanup = _tasks_by_type(flow, ResourceCleanupTask)
        assert isinstance(context, ResourceContext)
        assert (context.init_task, context.setup_task, context.cleanup_task) == (
            init,
            setup,
            cleanup,
        )
        assert (init.name, setup.name, cleanup.name) == (
            "MyResource",
            "MyResource.setup",
            "MyResource.cleanup",
        )
        assert flow.constants[init] == {"a": 1, "b": 3}
        assert _upstream(flow, setup) == {(init, "mgr")}
        assert _upstream(flow, cleanup) == {(init, "mgr"), (setup, "resource")}

    def test_resource_tasks_take_task_kwargs(self):
        manager = resource_manager(MyResource, cleanup_task_kwargs={"tags": ["c"]})
        with Flow("f"):
            context = manager(1)
        assert context.cleanup_task.tags == {"c"}
        assert context.cleanup_task.trigger is resource_cleanup_trigger
        assert context.cleanup_task.skip_on_upstream_skip is False
        assert context.init_task.checkpoint is False
        assert context.setup_task.checkpoint is False

    def test_init_task_arguments_can_be_tasks(self):
        source = _task("source")
        with Flow("f") as flow:
            context = resource_manager(MyResource)(source)
        assert _upstream(flow, context.init_task) == {(source, "a")}

    def test_init_task_checks_resource_arguments(self):
        flow = Flow("f")
        with pytest.raises(TypeError):
            resource_manager(MyResource)(1, c=3, flow=flow)

    def test_enter_returns_setup_task(self):
        with Flow("f"):
            context = resource_manager(MyResource)(1)
            with context as resource:
                assert resource is context.setup_task

    def test_block_tasks_run_between_setup_and_cleanup(self):
        with Flow("f") as flow:
            with resource_manager(MyResource)(1) as resource:
                a = _task("a").bind()
                b = _task("b").bind(a)
                c = _task("c").bind()
        cleanup = _tasks_by_type(flow, ResourceCleanupTask)
        assert _upstream(flow, a) == {(resource, None)}
        assert _upstream(flow, b) == {(a, "x")}
        assert _upstream(flow, c) == {(resource, None)}
        assert flow.upstream_tasks(cleanup) >= {b, c}
        assert a not in flow.upstream_tasks(cleanup)

    def test_tasks_using_the_resource_get_no_extra_edge(self):
        with Flow("f") as flow:
            with resource_manager(MyResource)(1) as resource:
                uses = FunctionTask(lambda r: r, name="uses").bind(resource)
        assert {(e.upstream_task, e.key) for e in flow.edges_to(uses)} == {(resource, "r")}

    def test_tasks_outside_the_block_are_untouched(self):
        with Flow("f") as flow:
            before = _task("before").bind()
            with resource_manager(MyResource)(1) as resource:
                inside = _task("inside").bind(before)
            after = _task("after").bind(inside)
        cleanup = _tasks_by_type(flow, ResourceCleanupTask)
        assert flow.upstream_tasks(before) == set()
        assert _upstream(flow, inside) == {(before, "x"), (resource, None)}
        assert flow.upstream_tasks(after) == {inside}
        assert flow.upstream_tasks(cleanup) >= {inside}
        assert after not in flow.upstream_tasks(cleanup)

    def test_without_setup_the_block_runs_after_init(self):
        with Flow("f") as flow:
            context = resource_manager(NoSetupResource)()
            with context as resource:
                a = _task("a").bind()
        assert resource is None
        assert context.setup_task is None
        assert not [t for t in flow.tasks if isinstance(t, ResourceSetupTask)]
        assert _upstream(flow, a) == {(context.init_task, None)}
        assert _upstream(flow, context.cleanup_task) == {(context.init_task, "mgr"), (a, None)}

    def test_empty_block_adds_no_edges(self):
        with Flow("f") as flow:
            with resource_manager(MyResource)(1):
                pass
        assert len(flow.tasks) == 3
        assert len(flow.edges) == 3

    def test_context_resource_is_set_inside_the_block_only(self):
        with Flow("f"):
            context = resource_manager(MyResource)(1)
            with context:
                assert prefect.context.get("resource") is context
            assert prefect.context.get("resource") is None

    def test_nested_blocks(self):
        outer_manager = resource_manager(MyResource, name="outer")
        inner_manager = resource_manager(MyResource, name="inner")
        with Flow("f") as flow:
            outer = outer_manager(1)
            with outer as outer_resource:
                inner = inner_manager(2)
                with inner as inner_resource:
                    assert prefect.context.get("resource") is inner
                    a = _task("a").bind()
                assert prefect.context.get("resource") is outer
        assert prefect.context.get("resource") is None
        assert _upstream(flow, a) == {(inner_resource, None)}
        assert flow.upstream_tasks(inner.init_task) == {outer_resource}
        assert a in flow.upstream_tasks(inner.cleanup_task)
        assert inner.cleanup_task in flow.upstream_tasks(outer.cleanup_task)
        assert a not in flow.upstream_tasks(outer.cleanup_task)

    def test_exception_in_block_restores_context_and_adds_no_edges(self):
        with Flow("f") as flow:
            context = resource_manager(MyResource)(1)
            with pytest.raises(RuntimeError):
                with context:
                    a = _task("a").bind()
                    raise RuntimeError("boom")
            assert prefect.context.get("resource") is None
        assert flow.upstream_tasks(a) == set()

    def test_explicit_flow_outside_a_flow_context(self):
        flow = Flow("f")
        context = resource_manager(MyResource)(1, flow=flow)
        assert {context.init_task, context.setup_task, context.cleanup_task} == flow.tasks

    def test_calling_without_a_flow_raises(self):
        with pytest.raises(ValueError, match="Flow"):
            resource_manager(MyResource)(1)

    def test_tasks_of_another_flow_in_the_block_are_rejected(self):
        with Flow("f"):
            context = resource_manager(MyResource)(1)
        with pytest.raises(ValueError, match="Multiple flows cannot be used"):
            context.add_task(_task("a"), Flow("other"))


class TestRun:
    def test_init_task_runs_the_resource_class(self):
        init = ResourceInitTask(MyResource)
        manager_object = init.run(1, b=5)
        assert isinstance(manager_object, MyResource)
        assert (manager_object.a, manager_object.b) == (1, 5)

    def test_init_task_run_has_the_class_signature(self):
        import inspect

        assert list(inspect.signature(ResourceInitTask(MyResource).run).parameters) == ["a", "b"]

    def test_setup_task_returns_setup_result(self):
        assert ResourceSetupTask().run(MyResource(1, 2)) == 3

    def test_cleanup_task_passes_the_resource(self):
        manager_object = MyResource(1)
        assert ResourceCleanupTask().run(manager_object, resource=3) is None
        assert manager_object.cleaned_up_with == [3]

    def test_cleanup_task_passes_none_to_cleanup_taking_an_argument(self):
        manager_object = MyResource(1)
        ResourceCleanupTask().run(manager_object)
        assert manager_object.cleaned_up_with == [None]

    def test_cleanup_task_calls_argumentless_cleanup_without_setup(self):
        manager_object = NoSetupResource()
        ResourceCleanupTask().run(manager_object)
        assert manager_object.cleanups == 1

    def test_cleanup_errors_propagate(self):
        class Broken:
            def cleanup(self, resource):
                raise OSError("cannot release")

        with pytest.raises(OSError, match="cannot release"):
            ResourceCleanupTask().run(Broken(), resource=1)


class TestCleanupTrigger:
    def _edges(self):
        init, setup, inner, cleanup = _task("init"), _task("setup"), _task("inner"), _task("c")
        return (
            Edge(init, cleanup, key="mgr"),
            Edge(setup, cleanup, key="resource"),
            Edge(inner, cleanup),
        )

    def test_runs_when_resource_exists_even_if_block_tasks_failed(self):
        mgr, resource, inner = self._edges()
        assert resource_cleanup_trigger({mgr: Success(), resource: Success(), inner: Failed()})
        assert resource_cleanup_trigger({mgr: Success(), resource: Success(), inner: Skipped()})
        assert resource_cleanup_trigger(
            {mgr: Success(), resource: Success(), inner: TriggerFailed()}
        )

    def test_runs_without_setup_edge(self):
        mgr, _, inner = self._edges()
        assert resource_cleanup_trigger({mgr: Success(), inner: Failed()})

    @pytest.mark.parametrize("unfinished", [Pending(), Running()])
    def test_waits_for_unfinished_upstream_tasks(self, unfinished):
        mgr, resource, inner = self._edges()
        with pytest.raises(signals.TRIGGERFAIL):
            resource_cleanup_trigger({mgr: Success(), resource: Success(), inner: unfinished})

    def test_fails_when_setup_failed(self):
        mgr, resource, inner = self._edges()
        with pytest.raises(signals.TRIGGERFAIL, match="setup"):
            resource_cleanup_trigger({mgr: Success(), resource: Failed(), inner: Success()})

    def test_fails_when_init_failed(self):
        mgr, resource, inner = self._edges()
        with pytest.raises(signals.TRIGGERFAIL, match="init"):
            resource_cleanup_trigger({mgr: Failed(), resource: Success(), inner: Success()})

    def test_skips_when_setup_was_skipped(self):
        mgr, resource, inner = self._edges()
        with pytest.raises(signals.SKIP, match="setup"):
            resource_cleanup_trigger({mgr: Success(), resource: Skipped(), inner: Skipped()})

    def test_skips_when_init_was_skipped(self):
        mgr, _, inner = self._edges()
        with pytest.raises(signals.SKIP, match="init"):
            resource_cleanup_trigger({mgr: Skipped(), inner: Success()})
