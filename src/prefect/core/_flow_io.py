"""What a flow does beyond its graph: run, draw, store and register (the `Flow` methods that
reach the engine, graphviz, storage and the backend)."""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any

import prefect

if TYPE_CHECKING:
    from pathlib import Path

    from prefect.core.flow import Flow
    from prefect.engine.state import State


class FlowIO:
    """The running, drawing and storing half of `Flow` (mixed into it)."""

    if TYPE_CHECKING:
        name: str
        storage: Any
        run_config: Any
        result: Any
        logger: Any

        def parameters(self) -> set: ...

    def run(
        self,
        parameters: dict[str, Any] | None = None,
        run_on_schedule: bool | None = None,
        runner_cls: type | None = None,
        **kwargs: Any,
    ) -> State | None:
        """Run the flow locally and return its final state.

        Args:
            parameters: values of the flow's parameters
            run_on_schedule: follow the flow's schedule (default `config.flows.run_on_schedule`)
            runner_cls: the flow runner class (default `config.engine.flow_runner.default_class`)
            **kwargs: values of parameters, by name; the others are passed to the runner's
                `run` (`task_states`, `executor`, `context`, ...)

        Raises:
            ValueError: for a missing required parameter or an unknown one
        """
        if "return_tasks" in kwargs:
            raise ValueError(
                "The `return_tasks` keyword argument has been removed from `flow.run` (since "
                "Prefect 0.12.0): the returned state's `result` holds every task's state."
            )
        if prefect.context.get("loading_flow", False):
            warnings.warn(
                "Attempting to call `flow.run` during execution of flow file will lead to "
                "unexpected results; the flow was not run.",
                stacklevel=2,
            )
            return None
        parameters = dict(parameters or {})
        known = {p.name for p in self.parameters()}
        # Keyword arguments named like a parameter are its value (the rest go to the runner).
        for name in known.intersection(kwargs):
            parameters[name] = kwargs.pop(name)
        unexpected = sorted(set(parameters) - known)
        if unexpected:
            raise ValueError(
                "Flow.run received the following unexpected parameters: {}".format(
                    ", ".join(unexpected)
                )
            )
        supplied = set(parameters) | set(prefect.context.get("parameters") or {})
        missing = sorted(p.name for p in self.parameters() if p.required and p.name not in supplied)
        if missing:
            raise ValueError(
                "Flow.run did not receive the following required parameters: {}".format(
                    ", ".join(missing)
                )
            )
        if run_on_schedule is None:
            run_on_schedule = bool(prefect.config.flows.run_on_schedule)
        if runner_cls is None:
            from prefect.engine import get_default_flow_runner_class

            runner_cls = get_default_flow_runner_class()

        state = self._run(
            parameters=parameters, runner_cls=runner_cls, run_on_schedule=run_on_schedule, **kwargs
        )

        from prefect.engine.result import NoResult
        from prefect.engine.state import Pending

        # The result always maps every task to a state, even when the run stopped early.
        if state._result == NoResult:  # type: ignore[attr-defined]
            state.result = {}
        elif isinstance(state.result, Exception):
            self.logger.error("Unexpected error occured in FlowRunner: %r", state.result)
            return state
        for task in self.tasks:  # type: ignore[attr-defined]
            if task not in state.result:
                state.result[task] = Pending(message="Task not evaluated by FlowRunner.")
        return state

    def _run(
        self, parameters: dict[str, Any], runner_cls: type, run_on_schedule: bool, **kwargs: Any
    ) -> State:
        """Run on the schedule (if any), each run re-run until no task is waiting to retry."""
        import time

        import pendulum

        from prefect.engine.state import Mapped, Pending, Scheduled

        context = dict(kwargs.pop("context", None) or {})
        task_states = kwargs.pop("task_states", None)
        schedule = getattr(self, "schedule", None)
        # An exhausted schedule ends the loop with the last run's state.
        flow_state: State = Pending()
        while True:
            run_parameters = dict(parameters)
            run_context = context
            if run_on_schedule and schedule is not None:
                events = schedule.next(1, return_events=True)
                if not events:
                    break
                event = events[0]
                run_parameters = {**(event.parameter_defaults or {}), **parameters}
                naptime = (event.start_time - pendulum.now("utc")).total_seconds()
                if naptime > 0:
                    self.logger.info("Waiting for next scheduled run at %s", event.start_time)
                    time.sleep(naptime)
                flow_state = Scheduled(start_time=event.start_time)
                # As in 1.x, each scheduled run (and its retries) sees its event's time as
                # `scheduled_start_time`, not the moment the runner started.
                run_context = {**context, "scheduled_start_time": event.start_time}
            else:
                flow_state = Pending()

            states = dict(task_states or {})
            while True:
                flow_state = runner_cls(flow=self).run(
                    parameters=run_parameters,
                    return_tasks=self.tasks,  # type: ignore[attr-defined]
                    state=flow_state,
                    task_states=states,
                    context=run_context,
                    **kwargs,
                )
                if flow_state.is_finished() or not isinstance(flow_state.result, dict):
                    break
                states = flow_state.result
                # Wait for the earliest task that will be ready later (a retry, a timed
                # pause); when none is, the run cannot go further on its own.
                waiting = [s for s in states.values()]
                for mapped in [s for s in waiting if isinstance(s, Mapped)]:
                    waiting.extend(mapped.map_states)
                start_times = [
                    s.start_time for s in waiting if isinstance(s, Scheduled) and s.start_time
                ]
                if not start_times:
                    break
                naptime = (min(start_times) - pendulum.now("utc")).total_seconds()
                if naptime > 0:
                    self.logger.debug("Waiting for %s seconds before retrying...", naptime)
                    time.sleep(naptime)

            # Successful cached results (mapped children's too) serve later runs of this
            # process; expired ones are dropped.
            if isinstance(flow_state.result, dict):
                _update_caches(flow_state.result)

            if not (run_on_schedule and schedule is not None):
                break
            task_states = None
        return flow_state

    def visualize(
        self,
        flow_state: State | None = None,
        filename: str | None = None,
        format: str | None = None,
        horizontal: bool = False,
    ) -> Any:
        """Draw the flow with graphviz (needs the `viz` extra and the `dot` program).

        Args:
            flow_state: a finished flow state; its task states colour the nodes
            filename: write the drawing here (the extension is added by graphviz)
            format: the file format (`pdf`, `png`, `svg`, ...); default `pdf`
            horizontal: draw left to right instead of top to bottom

        Returns:
            the `graphviz.Digraph`
        """
        from prefect.core._visualize import visualize_flow

        return visualize_flow(
            self,  # type: ignore[arg-type]
            flow_state=flow_state,
            filename=filename,
            format=format,
            horizontal=horizontal,
        )

    def serialize(self, build: bool = False) -> dict:
        """The flow as the 1.x JSON (`prefect.serialization.flow.FlowSchema`).

        Args:
            build: first add the flow to its storage and build the storage; the built
                storage is what the JSON describes

        Returns:
            the serialized flow

        Raises:
            ValueError: when building a flow that has no storage
        """
        from prefect.serialization.flow import FlowSchema

        storage = self.storage
        if build:
            if storage is None:
                raise ValueError(
                    f"Flow {self.name!r} has no storage to build; set `flow.storage` "
                    "(e.g. `prefect.storage.Local()`) first."
                )
            if self.name in storage:
                warnings.warn(
                    "A flow with the same name is already contained in storage; if you "
                    "changed your Flow since the last build, you might experience unexpected "
                    "issues and should re-create your storage object.",
                    stacklevel=2,
                )
            else:
                storage.add_flow(self)
            storage = storage.build()

        serialized: dict = FlowSchema().dump(self)
        if build and storage is not None and storage is not self.storage:
            serialized["storage"] = storage.serialize()
        return serialized

    def serialized_hash(self, build: bool = False) -> str:
        """A hash of the serialized flow, to tell whether it changed since registration.

        Args:
            build: build the storage first (see `serialize`)

        Returns:
            the SHA-256 hex digest of the flow's JSON, keys sorted
        """
        import hashlib
        import json

        return hashlib.sha256(
            json.dumps(self.serialize(build), sort_keys=True).encode()
        ).hexdigest()

    def diagnostics(self, include_secret_names: bool = False) -> str:
        """A JSON report of the environment and the flow, for bug reports."""
        from prefect.utilities import diagnostics

        return diagnostics.diagnostic_info(
            self,  # type: ignore[arg-type]
            include_secret_names=include_secret_names,
        )

    @classmethod
    def load(cls, fpath: str) -> Flow:
        """Load a flow saved with `Flow.save`.

        Args:
            fpath: the file path, or the name of a flow saved at the default location
        """
        import cloudpickle

        path = _path(fpath)
        if not path.exists():
            path = _default_save_path(fpath)
        with open(path, "rb") as f:
            return cloudpickle.load(f)

    def save(self, fpath: str | None = None) -> str:
        """Pickle the flow (with cloudpickle) to a file.

        Args:
            fpath: the file path (default `<home_dir>/flows/<slugified name>.prefect`)

        Returns:
            the path written
        """
        import cloudpickle

        path = _path(fpath) if fpath else _default_save_path(self.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            cloudpickle.dump(self, f)
        return str(path)

    def run_agent(
        self,
        token: str | None = None,
        show_flow_logs: bool = False,
        log_to_cloud: bool | None = None,
        api_key: str | None = None,
    ) -> None:
        """Run a local agent (`prefect.agent.local.LocalAgent`) with this flow's run-config
        labels, so it picks up this flow's runs."""
        if token is not None:
            warnings.warn(
                "The `token` argument is deprecated; pass `api_key` instead.", stacklevel=2
            )
        from prefect.agent.local import LocalAgent
        from prefect.utilities.configuration import set_temporary_config

        with set_temporary_config({"cloud.api_key": api_key} if api_key else {}):
            labels = list(getattr(self.run_config, "labels", None) or [])
            LocalAgent(
                labels=labels,
                show_flow_logs=show_flow_logs,
                no_cloud_logs=None if log_to_cloud is None else not log_to_cloud,
            ).start()

    def register(
        self,
        project_name: str | None = None,
        build: bool = True,
        labels: list[str] | None = None,
        set_schedule_active: bool = True,
        version_group_id: str | None = None,
        no_url: bool = False,
        idempotency_key: str | None = None,
        **kwargs: Any,
    ) -> str | None:
        """Register the flow with the backend (`prefect.Client().register`).

        A flow without storage gets the default storage
        (`config.flows.defaults.storage.default_class`, built with `**kwargs`), and its
        result when it has none; a flow without a run config gets a `UniversalRun`. The
        storage's labels and `labels` are added to the run config's labels.

        Args:
            project_name: the project to register in
            build: build the storage before registering
            labels: labels to add to the run config
            set_schedule_active: turn the flow's schedule on
            version_group_id: the version group the flow is a new version of
            no_url: do not print the flow's UI address
            idempotency_key: registering again with the same key returns the existing flow
            **kwargs: arguments of the default storage class

        Returns:
            the flow id (`None` when called while a flow file is being loaded)
        """
        if prefect.context.get("loading_flow", False):
            warnings.warn(
                "Attempting to call `flow.register` during execution of flow file will lead "
                "to unexpected results; the flow was not registered.",
                stacklevel=2,
            )
            return None

        if self.storage is None:
            from prefect.storage import get_default_storage_class

            self.storage = get_default_storage_class()(**kwargs)
        if getattr(self, "result", None) is None:
            self.result = getattr(self.storage, "result", None)
        if self.run_config is None:
            self.run_config = _default_run_config()
        _add_labels(self.run_config, getattr(self.storage, "labels", None) or ())
        _add_labels(self.run_config, labels or ())

        # Looked up on each call: tests and users replace `prefect.Client`.
        client: Any = prefect.Client()
        return client.register(  # type: ignore[no-any-return]
            flow=self,
            build=build,
            project_name=project_name,
            set_schedule_active=set_schedule_active,
            version_group_id=version_group_id,
            no_url=no_url,
            idempotency_key=idempotency_key,
        )


def _add_labels(run_config: Any, labels: Any) -> None:
    """Add labels to a run config's label set (a list is turned into a set)."""
    labels = set(labels)
    if not labels:
        return
    current = run_config.labels
    if isinstance(current, set):
        current.update(labels)
    else:
        run_config.labels = set(current or ()) | labels


def _default_run_config() -> Any:
    from prefect.run_configs import UniversalRun

    return UniversalRun()


def _path(fpath: str) -> Path:
    from pathlib import Path

    return Path(os.path.expanduser(fpath))


def _default_save_path(name: str) -> Path:
    from slugify import slugify

    return _path(prefect.config.home_dir) / "flows" / f"{slugify(name)}.prefect"


def _update_caches(task_states: dict) -> None:
    import pendulum

    from prefect.engine.state import Cached, Mapped

    caches = prefect.context.setdefault("caches", {})
    now = pendulum.now("utc")
    for task, task_state in task_states.items():
        if isinstance(task_state, Mapped):
            new = [s for s in task_state.map_states if s is not None and s.is_cached()]
        elif isinstance(task_state, Cached):
            new = [task_state]
        else:
            continue
        if not new:
            continue
        key = task.cache_key or task.name
        kept = [
            s
            for s in caches.get(key, [])
            if s.cached_result_expiration is None or s.cached_result_expiration > now
        ]
        caches[key] = kept + new
