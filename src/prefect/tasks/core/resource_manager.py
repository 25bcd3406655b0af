"""Resource managers: tasks that create a temporary resource, hand it to a block of tasks, and
clean it up afterwards, even when tasks in the block fail.

A resource class follows a small protocol:

- `__init__(...)`: takes whatever the resource needs; called by the *init* task with the
  arguments given when the manager is called (tasks or plain values).
- `setup(self)` (optional): creates the resource; its return value is what
  `with Manager(...) as resource:` binds, for tasks in the block to use.
- `cleanup(self, resource)`: releases the resource; receives what `setup` returned (`None`
  without a `setup`). It runs once the block's tasks are finished, whatever their states, as
  long as the resource was created.

Example:
    ```python
    @resource_manager
    class TemporaryDirectory:
        def setup(self):
            return tempfile.mkdtemp()

        def cleanup(self, path):
            shutil.rmtree(path)

    with Flow("example") as flow:
        with TemporaryDirectory() as path:
            write(path)
    ```
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, overload

import prefect
from prefect.core.parameter import Parameter
from prefect.core.task import Task

if TYPE_CHECKING:
    from prefect.core.edge import Edge
    from prefect.core.flow import Flow
    from prefect.engine.state import State

__all__ = ["resource_manager", "ResourceManager"]

# Edge keys of the cleanup task's inputs: the resource manager object and the setup result.
_MANAGER_KEY = "mgr"
_RESOURCE_KEY = "resource"


def resource_cleanup_trigger(upstream_states: dict[Edge, State]) -> bool:
    """Trigger of cleanup tasks: run once everything upstream is finished, if the resource exists.

    The resource exists when the init task and (if there is one) the setup task succeeded. The
    states of the other upstream tasks (the tasks of the block) do not matter.

    Args:
        upstream_states: the states of the upstream tasks, by edge

    Returns:
        `True` when the cleanup task should run

    Raises:
        prefect.engine.signals.TRIGGERFAIL: if an upstream task is not finished, or the init or
            setup task did not succeed (the resource was never created)
        prefect.engine.signals.SKIP: if the init or setup task was skipped
    """
    from prefect.engine import signals

    if not all(state.is_finished() for state in upstream_states.values()):
        raise signals.TRIGGERFAIL(
            'Trigger was "resource_cleanup_trigger" but some of the upstream tasks were not '
            "finished."
        )
    for edge, state in upstream_states.items():
        if edge.key not in (_MANAGER_KEY, _RESOURCE_KEY):
            continue
        step = "init" if edge.key == _MANAGER_KEY else "setup"
        if state.is_skipped():
            raise signals.SKIP(
                f"Resource {step} task was skipped, so there is nothing to clean up."
            )
        if not state.is_successful():
            raise signals.TRIGGERFAIL(
                f"Resource {step} task did not succeed, so there is no resource to clean up."
            )
    return True


class ResourceInitTask(Task):
    """The task that creates the resource manager object: it runs `resource_class(...)`.

    Args:
        resource_class: the resource class (or any callable returning a manager object)
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, resource_class: Callable, **kwargs: Any):
        # The class is the run method, so binding the task checks the class's arguments.
        self.run = resource_class  # type: ignore[method-assign]
        super().__init__(**kwargs)


class ResourceSetupTask(Task):
    """The task that creates the resource: it runs `mgr.setup()`."""

    def run(self, mgr: Any) -> Any:  # type: ignore[override]
        """Create the resource.

        Args:
            mgr: the resource manager object made by the init task

        Returns:
            what `mgr.setup()` returns
        """
        return mgr.setup()


class ResourceCleanupTask(Task):
    """The task that releases the resource: it runs `mgr.cleanup(resource)`."""

    def run(self, mgr: Any, resource: Any = None) -> None:  # type: ignore[override]
        """Release the resource.

        Args:
            mgr: the resource manager object made by the init task
            resource: what the setup task returned (`None` without a setup step)
        """
        cleanup = mgr.cleanup
        if resource is None and not _accepts_one_argument(cleanup):
            # Managers without a setup step may define `cleanup(self)`.
            cleanup()
        else:
            cleanup(resource)


def _accepts_one_argument(method: Callable) -> bool:
    try:
        import inspect

        inspect.signature(method).bind(None)
    except TypeError:
        return False
    except ValueError:
        # No introspectable signature: assume the documented protocol.
        return True
    return True


class ResourceContext:
    """The block of a resource manager: tasks added to the flow inside it use the resource.

    On exit, the tasks of the block that have no upstream task in the block run after the setup
    task (or the init task when there is no setup step), and the tasks that have no downstream
    task in the block run before the cleanup task.

    Args:
        init_task: the task creating the resource manager object
        setup_task: the task creating the resource, or `None` without a setup step
        cleanup_task: the task releasing the resource
        flow: the flow the tasks are in
    """

    def __init__(self, init_task: Task, setup_task: Task | None, cleanup_task: Task, flow: Flow):
        self.init_task = init_task
        self.setup_task = setup_task
        self.cleanup_task = cleanup_task
        self._flow = flow
        self._tasks: set[Task] = set()
        self._previous_resource: ResourceContext | None = None

    def add_task(self, task: Task, flow: Flow) -> None:
        """Record a task added to the flow inside this block (called by `Flow.add_task`).

        Args:
            task: the new task
            flow: the flow it was added to

        Raises:
            ValueError: if `flow` is not the flow of this resource manager
        """
        if flow is not self._flow:
            raise ValueError(
                "Multiple flows cannot be used with the same resource block: task "
                f"{task.name!r} was added to flow {flow.name!r} inside a block of flow "
                f"{self._flow.name!r}."
            )
        # Parameters are always root tasks: a parameter first used inside the block stays
        # outside it.
        if not isinstance(task, Parameter):
            self._tasks.add(task)

    def __enter__(self) -> Task | None:
        self._previous_resource = prefect.context.get("resource")
        prefect.context.update(resource=self)
        return self.setup_task

    def __exit__(self, *args: Any) -> None:
        if self._previous_resource is None:
            prefect.context.pop("resource", None)
        else:
            prefect.context.update(resource=self._previous_resource)
        self._previous_resource = None

        # After an exception in the block the graph is incomplete; leave it as it is.
        if args and args[0] is not None:
            return
        if not self._tasks:
            return

        flow = self._flow
        entry_task = self.setup_task if self.setup_task is not None else self.init_task
        for task in self._tasks:
            upstream = flow.upstream_tasks(task)
            if not self._tasks.intersection(upstream) and entry_task not in upstream:
                task.set_upstream(entry_task, flow=flow)
            if not self._tasks.intersection(flow.downstream_tasks(task)):
                task.set_downstream(self.cleanup_task, flow=flow)


class ResourceManager:
    """Creates the init, setup and cleanup tasks of a resource each time it is called.

    Usually made with the `resource_manager` decorator. Calling it inside a flow returns a
    `ResourceContext`: `with Manager(*args, **kwargs) as resource:`.

    Args:
        resource_class: the resource class (see the module documentation for its protocol)
        name: the resource name, used in the task names (default: the class name)
        init_task_kwargs: keyword arguments of `Task.__init__` for the init task
        setup_task_kwargs: keyword arguments of `Task.__init__` for the setup task
        cleanup_task_kwargs: keyword arguments of `Task.__init__` for the cleanup task

    Resource tasks do not checkpoint by default, since resources are transient. The cleanup
    task's trigger defaults to `resource_cleanup_trigger` and it is not skipped when a task of
    the block is skipped.
    """

    def __init__(
        self,
        resource_class: Callable,
        name: str | None = None,
        init_task_kwargs: dict | None = None,
        setup_task_kwargs: dict | None = None,
        cleanup_task_kwargs: dict | None = None,
    ):
        if not callable(resource_class):
            raise TypeError(
                f"A resource manager needs a class (or callable) to create the resource, got "
                f"{resource_class!r}."
            )
        if isinstance(resource_class, type) and not hasattr(resource_class, "cleanup"):
            raise TypeError(
                f"Resource class {resource_class.__name__!r} has no `cleanup` method; define "
                "`cleanup(self, resource)` to release what `setup` created."
            )
        self.resource_class = resource_class
        self.name = name or getattr(resource_class, "__name__", type(self).__name__)
        self.__doc__ = getattr(resource_class, "__doc__", None)
        self.__wrapped__ = resource_class

        init_task_kwargs = dict(init_task_kwargs or {})
        init_task_kwargs.setdefault("name", self.name)
        init_task_kwargs.setdefault("checkpoint", False)
        self.init_task_kwargs = init_task_kwargs

        setup_task_kwargs = dict(setup_task_kwargs or {})
        setup_task_kwargs.setdefault("name", f"{self.name}.setup")
        setup_task_kwargs.setdefault("checkpoint", False)
        self.setup_task_kwargs = setup_task_kwargs

        cleanup_task_kwargs = dict(cleanup_task_kwargs or {})
        cleanup_task_kwargs.setdefault("name", f"{self.name}.cleanup")
        cleanup_task_kwargs.setdefault("trigger", resource_cleanup_trigger)
        cleanup_task_kwargs.setdefault("skip_on_upstream_skip", False)
        cleanup_task_kwargs.setdefault("checkpoint", False)
        self.cleanup_task_kwargs = cleanup_task_kwargs

    def __call__(self, *args: Any, flow: Flow | None = None, **kwargs: Any) -> ResourceContext:
        """Add the init, setup and cleanup tasks to a flow.

        Args:
            *args: positional arguments of the resource class (tasks or values)
            flow: the flow (default: the active flow)
            **kwargs: keyword arguments of the resource class (tasks or values)

        Returns:
            the block to use as a context manager

        Raises:
            ValueError: if there is no flow
        """
        if flow is None:
            flow = prefect.context.get("flow")
            if flow is None:
                raise ValueError(
                    f"Could not infer an active Flow context for resource manager {self.name!r}: "
                    "use it inside a `with Flow(...)` block or pass `flow=`."
                )

        init_task = ResourceInitTask(self.resource_class, **self.init_task_kwargs).bind(
            *args, flow=flow, **kwargs
        )
        if hasattr(self.resource_class, "setup"):
            setup_task: Task | None = ResourceSetupTask(**self.setup_task_kwargs).bind(
                mgr=init_task, flow=flow
            )
            cleanup_task = ResourceCleanupTask(**self.cleanup_task_kwargs).bind(
                mgr=init_task, resource=setup_task, flow=flow
            )
        else:
            setup_task = None
            cleanup_task = ResourceCleanupTask(**self.cleanup_task_kwargs).bind(
                mgr=init_task, flow=flow
            )
        return ResourceContext(init_task, setup_task, cleanup_task, flow)


@overload
def resource_manager(
    resource_class: Callable,
    *,
    name: str | None = None,
    init_task_kwargs: dict | None = None,
    setup_task_kwargs: dict | None = None,
    cleanup_task_kwargs: dict | None = None,
) -> ResourceManager: ...


@overload
def resource_manager(
    *,
    name: str | None = None,
    init_task_kwargs: dict | None = None,
    setup_task_kwargs: dict | None = None,
    cleanup_task_kwargs: dict | None = None,
) -> Callable[[Callable], ResourceManager]: ...


def resource_manager(
    resource_class: Callable | None = None,
    *,
    name: str | None = None,
    init_task_kwargs: dict | None = None,
    setup_task_kwargs: dict | None = None,
    cleanup_task_kwargs: dict | None = None,
) -> ResourceManager | Callable[[Callable], ResourceManager]:
    """Turn a resource class into a `ResourceManager`, with or without arguments.

    Args:
        resource_class: the class; omitted when the decorator is called with arguments
        name: the resource name (default: the class name)
        init_task_kwargs: keyword arguments of `Task.__init__` for the init task
        setup_task_kwargs: keyword arguments of `Task.__init__` for the setup task
        cleanup_task_kwargs: keyword arguments of `Task.__init__` for the cleanup task

    Returns:
        the manager, or a decorator that makes one

    Example:
        ```python
        @resource_manager(name="cluster", cleanup_task_kwargs={"max_retries": 2})
        class DaskCluster:
            def __init__(self, n_workers):
                self.n_workers = n_workers

            def setup(self):
                return Client(n_workers=self.n_workers)

            def cleanup(self, client):
                client.close()

        with Flow("example") as flow:
            with DaskCluster(n_workers=4) as client:
                compute(client)
        ```
    """

    def decorate(cls: Callable) -> ResourceManager:
        return ResourceManager(
            cls,
            name=name,
            init_task_kwargs=init_task_kwargs,
            setup_task_kwargs=setup_task_kwargs,
            cleanup_task_kwargs=cleanup_task_kwargs,
        )

    if resource_class is None:
        return decorate
    return decorate(resource_class)
