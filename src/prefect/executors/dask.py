"""Executors on Dask: `LocalDaskExecutor` (Dask's local schedulers: threads, processes or
synchronous) and `DaskExecutor` (a `distributed` cluster, temporary or existing).

Both keep the executor contract of 1.x: one `submit` per task run, futures that later
submissions take as arguments, and `wait` resolving futures nested in collections. Dask keys
start with the Prefect task name (and end with the map index of a mapped child), so the Dask
dashboard and logs show which task a piece of work belongs to.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

import dask
from dask.callbacks import Callback
from dask.delayed import Delayed

import prefect
from prefect.executors import _batching
from prefect.executors.base import Executor

if TYPE_CHECKING:
    from distributed import Future

__all__ = ["DaskExecutor", "LocalDaskExecutor", "PrefectCallback"]

# Seconds to wait for an existing scheduler before giving up with an error naming it.
_CONNECT_TIMEOUT = 8


# Unique ids of Dask keys: random per process, then counted (a `uuid4` per key costs a system
# call and a Python-level object for every task run).
_KEY_TOKEN = [uuid.uuid4().hex[:20]]
_KEY_COUNTER = itertools.count()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _KEY_TOKEN.__setitem__(0, uuid.uuid4().hex[:20]))


def _unique_id() -> str:
    """32 hex digits, unique across processes (as `uuid4().hex` is)."""
    return f"{_KEY_TOKEN[0]}{next(_KEY_COUNTER):012x}"


def _task_key(extra_context: dict | None) -> str | None:
    """A Dask key naming the Prefect task: `<task name>-<unique id>[-<map index>]`."""
    if not extra_context or "task_name" not in extra_context:
        return None
    key = f"{extra_context['task_name']}-{_unique_id()}"
    index = extra_context.get("task_index")
    if index is not None:
        key = f"{key}-{index}"
    return key


def _resources(extra_context: dict | None) -> dict[str, float] | None:
    """Worker resources asked for by `dask-resource:<NAME>=<amount>` task tags."""
    resources: dict[str, float] = {}
    for tag in (extra_context or {}).get("task_tags") or ():
        if isinstance(tag, str) and tag.lower().startswith("dask-resource:"):
            name, _, amount = tag[len("dask-resource:") :].partition("=")
            try:
                resources[name] = float(amount)
            except ValueError:
                raise ValueError(
                    f"Task tag {tag!r}: a Dask resource tag reads `dask-resource:NAME=AMOUNT` "
                    "with a numeric amount."
                ) from None
    return resources or None


class _PicklableResult:
    """Wraps the function of a task run whose result must travel between processes: a state
    whose result cannot be pickled becomes a `Failed` state that says so (rather than an
    error from deep inside Dask that names no task)."""

    def __init__(self, fn: Callable, task_name: str | None, executor_name: str) -> None:
        self.fn = fn
        self.task_name = task_name
        self.executor_name = executor_name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        import cloudpickle

        state = self.fn(*args, **kwargs)
        try:
            cloudpickle.dumps(state)
        except Exception as exc:
            name = self.task_name or getattr(kwargs.get("task"), "name", "?")
            return _unpicklable(name, self.executor_name, exc)
        return state


def _unpicklable(task_name: Any, executor_name: str, exc: Exception) -> Any:
    """The `Failed` state of a task run whose result cannot be pickled (logged too)."""
    from prefect.engine.state import Failed

    message = (
        f"Task {task_name!r}: its result cannot be pickled ({exc!r}), so it cannot leave the "
        f"worker process of {executor_name}. Return a picklable value, or run the "
        "flow on a thread-based executor (`LocalDaskExecutor(scheduler='threads')` or "
        "`LocalExecutor()`)."
    )
    logging.getLogger("prefect").error(message)
    return Failed(message, result=exc)


# --- LocalDaskExecutor -----------------------------------------------------------------------


class PrefectCallback(Callback):
    """The Dask callback of a `LocalDaskExecutor`: `cache` keeps the result of every Dask key
    computed during the flow run (the executor's batches: `{call key: result}` each), and a
    later computation that contains a cached key takes the cached result instead."""

    def __init__(self) -> None:
        super().__init__()
        self.cache: dict[Any, Any] = {}

    def _start(self, dsk: Any) -> None:
        overlap = self.cache.keys() & dsk.keys()
        for key in overlap:
            dsk[key] = self.cache[key]

    def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, id: Any) -> None:  # noqa: A002
        self.cache[key] = result


_SCHEDULERS = {
    "threads": "threads",
    "threading": "threads",
    "processes": "processes",
    "multiprocessing": "processes",
    "sync": "synchronous",
    "synchronous": "synchronous",
    "single-threaded": "synchronous",
}


class _Submitted(Delayed):
    """What `LocalDaskExecutor.submit` returns: a `Delayed` named after the task, standing for
    a call the executor runs (in a batch) at the next `wait`. It holds the executor; its
    one-key graph (which waits on the executor) is made only when asked for: a map of a
    million children keeps a million of these."""

    __slots__ = ()

    def __init__(self, key: str, executor: LocalDaskExecutor) -> None:
        # `Delayed.__init__` and its `__setattr__` (a Python call per attribute), for one
        # future per task run: the same four slots, set directly.
        set_slot = object.__setattr__
        set_slot(self, "_key", key)
        set_slot(self, "_dask", executor)
        set_slot(self, "_length", None)
        set_slot(self, "_layer", key)

    @property
    def dask(self) -> dict:  # type: ignore[override]
        # The key goes in an object Dask does not look into (as a plain string it would be read
        # as a dependency of the task on itself).
        return {self._key: (_wait_for_key, self._dask, _KeyName(self._key))}


class _KeyName:
    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key


def _run_local_batch(batch: _batching.Batch, upstream: list[dict[str, Any]]) -> dict[str, Any]:
    return _batching.run_batch(batch, upstream, _Submitted)


# `LocalDaskExecutor` runs the calls recorded so far when this many are waiting.
_MAX_PENDING_CALLS = 10_000


class LocalDaskExecutor(Executor):
    """Runs task runs in parallel on Dask's local schedulers, in this process's threads or in
    a pool of worker processes.

    `submit` records the call and returns a `Delayed` whose key starts with the task name;
    `wait` (or a submission once `_MAX_PENDING_CALLS` are recorded) runs every call recorded
    so far, in batches: consecutive calls grouped into Dask
    tasks (several per worker), each batch after the batches it depends on, so that
    independent task runs (mapped children, say) run in parallel while Dask schedules a few
    hundred tasks rather than one per task run. Results are kept: no call runs twice.

    Args:
        scheduler: `"threads"` (default), `"processes"` or `"sync"` (one thread, for
            debugging)
        **kwargs: passed to Dask's scheduler, e.g. `num_workers=4`

    Raises:
        ValueError: for an unknown scheduler
    """

    def __init__(self, scheduler: str = "threads", **kwargs: Any):
        normalized = _SCHEDULERS.get(scheduler)
        if normalized is None:
            raise ValueError(
                f"Unknown scheduler {scheduler!r}: LocalDaskExecutor takes 'threads', "
                "'processes' or 'sync'."
            )
        self.scheduler = normalized
        self.dask_config = kwargs
        self.callback = PrefectCallback()
        self._pool: Any = None
        self._pending: list[_batching.Call] = []
        self._results: dict[str, Any] = {}
        super().__init__()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.update(_pool=None, callback=None, _pending=[], _results={})
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.callback = PrefectCallback()

    def _workers(self) -> int:
        import os

        return int(self.dask_config.get("num_workers") or os.cpu_count() or 1)

    def _make_pool(self) -> Any:
        # `multiprocessing` pools: their threads are daemons and their processes can be
        # terminated, so an interrupted run ends at once instead of waiting for running tasks.
        num_workers = self._workers()
        if self.scheduler == "threads":
            from multiprocessing.pool import ThreadPool

            return ThreadPool(num_workers)
        if self.scheduler == "processes":
            # (A `concurrent.futures` pool here: a worker process that dies breaks it, and
            # the run fails, where a `multiprocessing` pool would wait forever.)
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context(
                dask.config.get("multiprocessing.context", "spawn")
            )
            return ProcessPoolExecutor(num_workers, mp_context=context)
        return None

    @contextmanager
    def start(self) -> Iterator[None]:
        """Create the thread or process pool for the flow run; close it afterwards. On an
        error or Ctrl-C the pool is terminated: work not started is dropped, worker processes
        are stopped, and running threads are left to end with the process.

        Yields:
            None
        """
        self.callback = PrefectCallback()
        self._pending, self._results = [], {}
        self._pool = self._make_pool()
        interrupted = True
        try:
            yield
            interrupted = False
        finally:
            pool, self._pool = self._pool, None
            if pool is not None:
                _close_pool(pool, interrupted)
            self._pending, self._results = [], {}

    def submit(
        self, fn: Callable, *args: Any, extra_context: dict | None = None, **kwargs: Any
    ) -> Delayed:
        """Record `fn(*args, **kwargs)`, to run at the next `wait`.

        Args:
            fn: the function to run
            *args: its positional arguments (may hold earlier submissions)
            extra_context: the task's name, tags and map index, for the Dask key
            **kwargs: its keyword arguments (may hold earlier submissions)

        Returns:
            a `Delayed` for the result (computing it on its own waits on this executor)
        """
        if self.scheduler == "processes":
            task_name = (extra_context or {}).get("task_name")
            fn = _PicklableResult(fn, task_name, "LocalDaskExecutor(scheduler='processes')")
        key = _task_key(extra_context) or f"{getattr(fn, '__name__', 'call')}-{_unique_id()}"
        dependencies: list[str] = []
        _batching.references(args, _Submitted, dependencies)
        if kwargs:
            _batching.references(kwargs, _Submitted, dependencies)
        pending = self._pending
        pending.append(_batching.Call(key, fn, args, kwargs, dependencies))
        if len(pending) >= _MAX_PENDING_CALLS:
            # A million mapped children are not all held (with their arguments) until the
            # flow runner waits: every so many, the recorded calls run.
            self._run_pending()
        return _Submitted(key, self)

    def wait(self, futures: Any) -> Any:
        """Run every call submitted so far, then return `futures` (one, or nested in lists,
        tuples, sets or dict values) with each replaced by its result.

        Args:
            futures: a `Delayed` from `submit`, a structure holding some, or plain values

        Returns:
            the structure with each of them replaced by its result

        Raises:
            Exception: what a call raised, when `futures` holds its `Delayed`
        """
        if self._pending:
            self._run_pending()
        return _batching.resolve(futures, _Submitted, self._results)

    def _run_pending(self) -> None:
        calls, self._pending = self._pending, []
        results = self._results
        plan = _batching.plan_batches(calls, self._workers(), _batch_key)
        graph: dict[str, Any] = {}
        for key, chunk, needs in plan:
            known = {}
            for call in chunk:
                for dependency in call.dependencies:
                    if dependency in results:
                        known[dependency] = results[dependency]
            graph[key] = (_run_local_batch, _batching.Batch(chunk, known), needs)
        options = {k: v for k, v in self.dask_config.items() if k != "num_workers"}
        if self.scheduler == "synchronous":
            from dask.local import get_sync as get
        elif self.scheduler == "processes":
            from dask.multiprocessing import get  # type: ignore[assignment]
        else:
            from dask.threaded import get  # type: ignore[assignment]
        if self._pool is not None:
            options["pool"] = self._pool
        elif self.scheduler != "synchronous":
            options["num_workers"] = self._workers()
        if self.scheduler == "processes":
            options.setdefault("chunksize", 1)  # batches are chunks already: spread them
        options["callbacks"] = [self.callback._callback]
        batch_keys = [key for key, _, _ in plan]
        for batch_results in get(graph, batch_keys, **options):
            results.update(batch_results)


def _close_pool(pool: Any, interrupted: bool) -> None:
    """Close a pool after the run; after an error or Ctrl-C, without waiting for running work
    (worker processes are stopped; threads, daemons, end with the process)."""
    from concurrent.futures import ProcessPoolExecutor

    if isinstance(pool, ProcessPoolExecutor):
        if interrupted:
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()
        pool.shutdown(wait=not interrupted, cancel_futures=True)
    elif interrupted:
        pool.terminate()
    else:
        pool.close()
        pool.join()


def _batch_key(call: _batching.Call) -> str:
    return f"{call.key}-batch"


def _wait_for_key(executor: LocalDaskExecutor, name: _KeyName) -> Any:
    return executor.wait(_Submitted(name.key, executor))


# --- DaskExecutor ----------------------------------------------------------------------------


class DaskExecutor(Executor):
    """Runs task runs on a Dask `distributed` cluster: a temporary one made for the flow run
    (a `LocalCluster` unless `cluster_class` says otherwise), or an existing one at `address`.

    Args:
        address: the scheduler of an existing cluster (e.g. `"tcp://10.0.0.5:8786"`); by
            default `config.engine.executor.dask.address`, and when that is empty a temporary
            cluster is created
        cluster_class: the cluster class of a temporary cluster, or its import path (default:
            `config.engine.executor.dask.cluster_class`, a `distributed.LocalCluster`)
        cluster_kwargs: keyword arguments for the cluster class
        adapt_kwargs: when given, the temporary cluster scales itself:
            `cluster.adapt(**adapt_kwargs)` (e.g. `{"minimum": 1, "maximum": 10}`)
        client_kwargs: keyword arguments for `distributed.Client`
        debug: keep Dask's own log messages of a temporary `LocalCluster` (default:
            `config.debug`)
        performance_report_path: write a Dask performance report (HTML) of the run there
        disable_cancellation_event: do not create the Dask event that tells running tasks
            their flow run was cancelled
        watch_worker_status: log workers joining and leaving (default: on, except for
            clusters that are not temporary and not local)

    Raises:
        ValueError: when both `address` and a cluster class or its arguments are given
    """

    def __init__(
        self,
        address: str | None = None,
        cluster_class: str | Callable | None = None,
        cluster_kwargs: dict | None = None,
        adapt_kwargs: dict | None = None,
        client_kwargs: dict | None = None,
        debug: bool | None = None,
        performance_report_path: str | None = None,
        disable_cancellation_event: bool = False,
        watch_worker_status: bool | None = None,
    ):
        if address is None:
            address = prefect.config.engine.executor.dask.address or None
        if address is not None:
            if cluster_class is not None or cluster_kwargs is not None:
                raise ValueError(
                    "Cannot specify `address` and `cluster_class`/`cluster_kwargs`: an address "
                    "connects to an existing cluster, a cluster class makes a new one."
                )
        else:
            if cluster_class is None:
                cluster_class = prefect.config.engine.executor.dask.cluster_class
            if isinstance(cluster_class, str):
                from prefect.utilities.serialization import from_qualified_name

                cluster_class = from_qualified_name(cluster_class)
            cluster_kwargs = dict(cluster_kwargs or {})
            if debug is None:
                debug = bool(prefect.config.debug)
            if _is_local_cluster(cluster_class):
                cluster_kwargs.setdefault(
                    "silence_logs", logging.WARNING if debug else logging.CRITICAL
                )
        client_kwargs = dict(client_kwargs or {})
        client_kwargs.setdefault("set_as_default", False)

        self.address = address
        self.cluster_class = cluster_class
        self.cluster_kwargs = cluster_kwargs
        self.adapt_kwargs = adapt_kwargs
        self.client_kwargs = client_kwargs
        self.disable_cancellation_event = disable_cancellation_event
        self.watch_worker_status = watch_worker_status
        self.performance_report_path = performance_report_path
        self.client: Any = None
        self._watcher: Any = None
        self._reset_batches()
        super().__init__()

    def _reset_batches(self) -> None:
        self._buffer: list[_batching.Call] = []  # mapped children not yet sent
        self._buffer_options: dict[str, Any] = {}
        self._batch_of: dict[str, str] = {}  # child key -> its batch's key
        self._batches: dict[str, Any] = {}  # batch key -> the batch's future
        self._children_in_row = 0  # mapped children submitted since the last other call
        self._threads: int | None = None  # threads of the cluster, asked once per run
        # The Dask event that is set while the flow run goes on (see `_maybe_run`).
        self._should_run_event: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.update(client=None, _watcher=None, _buffer=[], _batch_of={}, _batches={})
        state.update(_children_in_row=0, _threads=None, _should_run_event=None)
        state["_buffer_options"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @property
    def performance_report(self) -> str:
        """The HTML of the performance report written for the last run, or `""`."""
        if not self.performance_report_path:
            return ""
        try:
            with open(self.performance_report_path, encoding="utf-8") as report:
                return report.read()
        except OSError:
            self.logger.warning("No performance report found at %s.", self.performance_report_path)
            return ""

    @contextmanager
    def start(self) -> Iterator[None]:
        """Create the temporary cluster (or connect to the existing one) and a client for the
        flow run; everything is closed afterwards, also on an error or Ctrl-C.

        Yields:
            None

        Raises:
            ConnectionError: when the scheduler at `address` cannot be reached
        """
        from distributed import Client, performance_report

        with ExitStack() as stack:
            if self.address is None:
                assert self.cluster_class is not None
                self.logger.info(
                    "Creating a new Dask cluster with `%s`...", _qualified_name(self.cluster_class)
                )
                cluster = stack.enter_context(
                    self.cluster_class(**(self.cluster_kwargs or {}))  # type: ignore[operator]
                )
                if self.adapt_kwargs:
                    cluster.adapt(**self.adapt_kwargs)
                address = cluster.scheduler_address
                dashboard = getattr(cluster, "dashboard_link", None)
                self.logger.info(
                    "The Dask dashboard is available at %s", dashboard or "(no dashboard)"
                )
                local = True
            else:
                address = self.address
                self.logger.info("Connecting to an existing Dask cluster at %s", address)
                local = address.startswith(("inproc://", "tcp://127.", "tcp://localhost"))
            client_kwargs = dict(self.client_kwargs)
            client_kwargs.setdefault("timeout", _CONNECT_TIMEOUT)
            try:
                self.client = stack.enter_context(Client(address, **client_kwargs))
            except (OSError, TimeoutError, asyncio.TimeoutError) as exc:
                raise ConnectionError(
                    f"Could not connect to the Dask scheduler at {address!r} within "
                    f"{client_kwargs['timeout']} s: {exc}"
                ) from exc
            self._reset_batches()
            stack.callback(self._forget_client)
            if not self.disable_cancellation_event:
                self._start_should_run_event()
                stack.callback(self._clear_should_run_event)
            if self.performance_report_path:
                try:
                    import bokeh  # noqa: F401 - the report is drawn with it
                except ImportError:
                    self.logger.warning(
                        "No Dask performance report: it needs `bokeh` (pip install bokeh); "
                        "the flow runs without it."
                    )
                else:
                    # The report finds the client as the current one (ours is not the default).
                    stack.enter_context(self.client.as_current())
                    stack.enter_context(performance_report(filename=self.performance_report_path))
            watch = self.watch_worker_status
            if watch or (watch is None and local):
                self._start_watching()
                stack.callback(self._stop_watching)
            yield

    def _forget_client(self) -> None:
        self.client = None
        self._reset_batches()

    # The run's "should run" event ------------------------------------------------------------

    def _start_should_run_event(self) -> None:
        """Create and set the Dask event that task runs check before they start: cleared when
        the flow run ends (finished, failed, interrupted or cancelled), so that work still
        queued on a shared cluster is not started."""
        from distributed import Event

        name = f"prefect-{uuid.uuid4().hex}"
        Event(name, client=self.client).set()
        self._should_run_event = name

    def _clear_should_run_event(self) -> None:
        name, self._should_run_event = self._should_run_event, None
        if name is None or self.client is None:
            return
        from distributed import Event

        try:
            Event(name, client=self.client).clear()
        except Exception as exc:  # the cluster may be going away: nothing left to stop
            self.logger.debug("Could not clear the Dask event %s: %r", name, exc)

    # Workers joining and leaving -------------------------------------------------------------

    def _start_watching(self) -> None:
        # The scheduler publishes workers joining and leaving on its "all" event topic.
        self.client.subscribe_topic("all", self._on_scheduler_event)
        self._watcher = self.client

    def _stop_watching(self) -> None:
        client, self._watcher = self._watcher, None
        if client is not None:
            try:
                client.unsubscribe_topic("all")
            except Exception as exc:  # the client is closing anyway
                self.logger.debug("Could not stop watching Dask workers: %r", exc)

    async def _on_scheduler_event(self, event: tuple[float, Any]) -> None:
        _, message = event
        if not isinstance(message, dict):
            return
        action = message.get("action")
        worker = message.get("worker")
        if action == "add-worker":
            await self.on_worker_status_changed("add", {"workers": {worker: {}}})
        elif action == "remove-worker":
            await self.on_worker_status_changed("remove", worker)  # type: ignore[arg-type]

    async def on_worker_status_changed(self, op: str, message: dict) -> None:
        """Log a worker joining (`op` `"add"`) or leaving (`"remove"`) the cluster.

        Args:
            op: `"add"` or `"remove"`
            message: for `"add"`, `{"workers": {address: info}}`; for `"remove"`, the
                worker's address
        """
        if op == "add":
            for worker in (message or {}).get("workers", {}):
                self.logger.debug("Worker %s added", worker)
        elif op == "remove":
            self.logger.debug("Worker %s removed", message)

    # Submitting and waiting ------------------------------------------------------------------

    def submit(
        self, fn: Callable, *args: Any, extra_context: dict | None = None, **kwargs: Any
    ) -> Future:
        """Submit `fn(*args, **kwargs)` to the cluster, under a key named after the task and
        with the worker resources its `dask-resource:` tags ask for.

        The children of a mapped task are sent in batches (one Dask task runs many children;
        a plain future costs the scheduler milliseconds): for them this returns a placeholder
        with the child's key, which later submissions and `wait` accept like a future.

        Args:
            fn: the function to run
            *args: its positional arguments (may hold futures of earlier submissions)
            extra_context: the task's name, tags and map index
            **kwargs: its keyword arguments (may hold futures)

        Returns:
            a `distributed.Future` (or a placeholder for a mapped child)

        Raises:
            RuntimeError: outside `start()`
        """
        if self.client is None:
            raise RuntimeError(
                "This DaskExecutor has not been started: use `with executor.start():`."
            )
        task_name = (extra_context or {}).get("task_name")
        options: dict[str, Any] = {"pure": False}
        resources = _resources(extra_context)
        if resources:
            options["resources"] = resources
        wrapped = _PicklableResult(fn, task_name, "DaskExecutor")
        key = _task_key(extra_context)
        dependencies: list[str] = []
        _batching.references(args, _Batched, dependencies)
        _batching.references(kwargs, _Batched, dependencies)
        if key is not None and (extra_context or {}).get("task_index") is not None:
            if self._buffer and self._buffer_options != options:
                self._send_buffer()
            self._buffer_options = options
            # (A batch checks its results can be pickled all at once: `_run_dask_batch`.)
            self._buffer.append(_batching.Call(key, fn, args, kwargs, dependencies))
            # The first children of a run of submissions go one by one (a small map runs on
            # every thread of the cluster); later batches double up to `_DASK_BATCH`.
            self._children_in_row += 1
            if len(self._buffer) >= self._batch_size():
                self._send_buffer()
            return _Batched(key)  # type: ignore[return-value]
        self._children_in_row = 0
        if key is not None:
            options["key"] = key
        if self._should_run_event is not None:
            wrapped = _MaybeRun(self._should_run_event, wrapped)  # type: ignore[assignment]
        if not dependencies:
            return self.client.submit(wrapped, *args, **options, **kwargs)
        # Placeholders of mapped children: their batches' futures go along, resolved there.
        self._send_buffer_if_needed(dependencies)
        batches = {b: self._batches[b] for b in {self._batch_of[d] for d in dependencies}}
        return self.client.submit(_call_with_batches, wrapped, args, kwargs, batches, **options)

    def _batch_size(self) -> int:
        if self._threads is None:
            try:
                self._threads = max(1, sum(self.client.nthreads().values()))
            except Exception:  # e.g. no worker yet (adaptive): assume a few
                self._threads = 4
        extra = self._children_in_row - 2 * self._threads
        if extra <= 0:
            return 1
        return min(_DASK_BATCH, 1 << max(0, extra.bit_length() - 2))

    def _send_buffer_if_needed(self, dependencies: list[str]) -> None:
        if any(d not in self._batch_of for d in dependencies):
            self._send_buffer()

    def _send_buffer(self) -> None:
        calls, self._buffer = self._buffer, []
        if not calls:
            return
        batch_key = f"{calls[0].key}-batch"
        needs: set[str] = set()
        for call in calls:
            for dependency in call.dependencies:
                other = self._batch_of.get(dependency)
                if other is not None:
                    needs.add(other)
        upstream = {b: self._batches[b] for b in needs}
        future = self.client.submit(
            _run_dask_batch,
            _batching.Batch(calls, {}),
            upstream,
            self._should_run_event,
            key=batch_key,
            **self._buffer_options,
        )
        self._batches[batch_key] = future
        for call in calls:
            self._batch_of[call.key] = batch_key

    def wait(self, futures: Any) -> Any:
        """Gather the results of the futures in `futures` (nested in lists, tuples, sets or
        dict values).

        Args:
            futures: a future, a structure holding some, or plain values

        Returns:
            the structure with each future replaced by its result

        Raises:
            Exception: what a task raised, when `futures` holds its future
        """
        if self.client is None:
            raise RuntimeError(
                "This DaskExecutor has not been started: use `with executor.start():`."
            )
        self._send_buffer()
        self._children_in_row = 0
        wanted: list[str] = []
        _batching.references(futures, _Batched, wanted)
        if wanted:
            keys = {self._batch_of[child] for child in wanted}
            gathered = self.client.gather({k: self._batches[k] for k in keys})
            results = _batching.merged(map(_loaded, gathered.values()))
            futures = _batching.resolve(futures, _Batched, results)
        return self.client.gather(futures)


# Mapped children per Dask task on a `DaskExecutor`.
_DASK_BATCH = 200


class _Batched:
    """A mapped child sent (or about to be sent) to the cluster inside a batch."""

    __slots__ = ("_key",)

    def __init__(self, key: str) -> None:
        self._key = key  # (named as `Delayed`'s: `_batching` reads `_key` of both)

    @property
    def key(self) -> str:
        return self._key

    def __repr__(self) -> str:
        return f"<batched task run {self._key}>"


def _run_dask_batch(
    batch: _batching.Batch, upstream: dict[str, bytes], should_run_event: str | None = None
) -> bytes | None:
    """Run a batch of mapped children on a worker; return their results pickled (see
    `_pickled_results`), or `None` without running them when the flow run is over (see
    `_MaybeRun`)."""
    if should_run_event is not None and not _event_is_set(should_run_event):
        return None
    results = _batching.run_batch(batch, [_loaded(u) for u in upstream.values()], _Batched)
    return _pickled_results(batch, results)


class _MaybeRun:
    """A task run sent to the cluster that starts only while its flow run goes on: the
    executor's "should run" Dask event is set for the run and cleared when it ends; work
    still queued then returns `None` at once (nobody waits for it any more)."""

    def __init__(self, event_name: str, fn: Callable) -> None:
        self.event_name = event_name
        self.fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not _event_is_set(self.event_name):
            return None
        return self.fn(*args, **kwargs)


# Event name -> (when it was last found set, monotonic seconds). A worker asks the scheduler at
# most once a second per event: work that starts within a second of the end of its flow run
# still runs (stopping queued work is best effort), and a batch of children costs no round trip.
_EVENT_SEEN_SET: dict[str, float] = {}
_EVENT_RECHECK = 1.0


def _event_is_set(name: str) -> bool:
    import time

    seen = _EVENT_SEEN_SET.get(name)
    now = time.monotonic()
    if seen is not None and now - seen < _EVENT_RECHECK:
        return True
    from distributed import Event

    try:
        is_set = bool(Event(name).is_set())
    except Exception:  # no client or no answer: run (stopping queued work is best effort)
        return True
    if is_set:
        if len(_EVENT_SEEN_SET) > 1_000:  # runs come and go on a long-lived worker
            _EVENT_SEEN_SET.clear()
        _EVENT_SEEN_SET[name] = now
    else:
        _EVENT_SEEN_SET.pop(name, None)
    return is_set


def _pickled_results(batch: _batching.Batch, results: dict[str, Any]) -> bytes:
    """`results` pickled once, here, where Dask would pickle them to send them anyway: a
    result that cannot be pickled becomes a `Failed` state naming its task (as
    `_PicklableResult` does for a single task run), instead of an error from deep inside Dask
    that fails the whole batch."""
    import cloudpickle

    try:
        return cloudpickle.dumps(results)  # type: ignore[no-any-return]
    except Exception:
        pass
    checked = {}
    for call in batch.calls:
        result = results[call.key]
        try:
            cloudpickle.dumps(result)
        except Exception as exc:
            name = getattr(call.kwargs.get("task"), "name", None) or call.key
            result = _unpicklable(name, "DaskExecutor", exc)
        checked[call.key] = result
    return cloudpickle.dumps(checked)  # type: ignore[no-any-return]


def _loaded(payload: Any) -> Any:
    """The results of a batch (`_run_dask_batch` sends them pickled)."""
    if type(payload) is bytes:
        import cloudpickle

        return cloudpickle.loads(payload)
    return payload


def _call_with_batches(fn: Callable, args: tuple, kwargs: dict, batches: dict[str, bytes]) -> Any:
    known = _batching.merged(map(_loaded, batches.values()))
    return fn(
        *_batching.resolve(args, _Batched, known),
        **_batching.resolve(kwargs, _Batched, known),
    )


def _is_local_cluster(cluster_class: Any) -> bool:
    try:
        from distributed import LocalCluster
    except ImportError:  # pragma: no cover - distributed is a base requirement
        return False
    return isinstance(cluster_class, type) and issubclass(cluster_class, LocalCluster)


def _qualified_name(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"
