"""`Agent`: the loop that takes scheduled flow runs from the backend and deploys them.

One agent's life, in the order `server-protocol.md` section 4.3 records it:

1. register (`tenant { id }`, then `register_agent` with the class name, name and labels); the
   id is sent as ``X-PREFECT-AGENT-ID`` with every later request;
2. ``query { hello }`` (a failure stops the agent with ``RuntimeError``), then the agent config
   when ``agent_config_id`` is given;
3. poll ``get_runs_in_queue`` (runs due within 10 s whose labels fit this agent), read the
   runs' metadata, and hand each run to a worker thread, which waits until the run's start
   time, marks it ``Submitted`` and calls `deploy_flow` (the part subclasses write).

Polling backs off while there is no work: ``cloud.agent.poll_interval_min`` seconds after a poll
that found work, doubling on each idle poll up to ``cloud.agent.poll_interval_max``. A ``GET
/api/poke`` on the agent's health server (``agent_address``) wakes it at once.

Two agents may be handed the same run: the backend lets only the first ``Submitted`` write
through and refuses the other with a message containing ``State update failed``; the losing
agent drops the run without a trace.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import threading
import time
from collections.abc import Generator, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Optional

import prefect
from prefect.client import Client
from prefect.utilities.graphql import GraphQLResult, with_args

if TYPE_CHECKING:
    from prefect.run_configs import RunConfig

ascii_name = r"""
 ____            __           _        _                    _
|  _ \ _ __ ___ / _| ___  ___| |_     / \   __ _  ___ _ __ | |_
| |_) | '__/ _ \ |_ / _ \/ __| __|   / _ \ / _` |/ _ \ '_ \| __|
|  __/| | |  __/  _|  __/ (__| |_   / ___ \ (_| |  __/ | | | |_
|_|   |_|  \___|_|  \___|\___|\__| /_/   \_\__, |\___|_| |_|\__|
                                            |___/
"""

# Set by `PokeHandler` (and on shutdown) to end an agent's wait between polls early.
AGENT_WAKE_EVENT = threading.Event()

# Defaults of the poll back-off when the config keys are absent (1.x hard-coded these).
_POLL_INTERVAL_MIN = 0.25
_POLL_INTERVAL_MAX = 10.0
# A run is due when its start time is before now + this many seconds.
_QUEUE_LOOKAHEAD_SECONDS = 10
# Task runs whose retry time came less than this many seconds ago are left for the running
# flow-run process to pick up itself.
_TASK_RUN_GRACE_SECONDS = 3

_HANDLER_CLASSES: dict[str, type] = {}


def __getattr__(name: str) -> Any:
    # The health-server handlers subclass tornado's RequestHandler, as in 1.x; tornado is
    # imported only when they are first used, so that `import prefect.agent` stays light.
    if name in ("HealthHandler", "PokeHandler"):
        if not _HANDLER_CLASSES:
            _HANDLER_CLASSES.update(_build_handler_classes())
        return _HANDLER_CLASSES[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _build_handler_classes() -> dict[str, type]:
    from tornado import web

    class HealthHandler(web.RequestHandler):
        """Answers ``GET /api/health`` with 200 and an empty JSON object while the agent runs."""

        def get(self) -> None:
            self.write({})

    class PokeHandler(web.RequestHandler):
        """Answers ``GET /api/poke``: the agent polls for flow runs at once."""

        def get(self) -> None:
            AGENT_WAKE_EVENT.set()

    for cls in (HealthHandler, PokeHandler):
        cls.__module__ = __name__
        cls.__qualname__ = cls.__name__
    return {"HealthHandler": HealthHandler, "PokeHandler": PokeHandler}


@contextmanager
def exit_handler(agent: Agent) -> Generator:
    """Stop `agent` cleanly on SIGINT or SIGTERM while the block runs.

    A signal sets the agent's exit event (yielded) and wakes its poll loop; flow runs already
    started keep running. Handlers are installed only in the main thread (Python allows no
    other), and the previous ones are restored on exit.

    Args:
        agent: the agent to stop.

    Yields:
        the event that is set when the agent should stop.
    """
    exit_event = agent._exit_event

    def _handle(signum: int, frame: Any) -> None:
        agent.logger.info(
            "%s received: Agent is shutting down.",
            "Keyboard Interrupt" if signum == signal.SIGINT else signal.Signals(signum).name,
        )
        exit_event.set()
        AGENT_WAKE_EVENT.set()

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, _handle)
    try:
        yield exit_event
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _agent_config() -> Any:
    return prefect.config.cloud.agent


class Agent:
    """Base class of agents: polls the backend for flow runs and deploys them.

    Subclasses implement `deploy_flow`; everything else (registration, polling, labels,
    ``Submitted`` marking, failure reporting) is shared.

    Args:
        agent_config_id: an agent config to attach to (its settings are read at start).
        name: the agent's name (default: ``cloud.agent.name``).
        labels: the agent's labels (default: ``cloud.agent.labels``). A labeled run goes only
            to agents having all its labels; an unlabeled run only to unlabeled agents.
        env_vars: environment variables given to every flow run
            (default: ``cloud.agent.env_vars``).
        max_polls: stop after this many polls (default: run until stopped).
        agent_address: ``http://HOST:PORT`` of a health server to start
            (``GET /api/health``, ``GET /api/poke``; default: ``cloud.agent.agent_address``).
        no_cloud_logs: keep flow-run logs off the backend (default: ``cloud.send_flow_run_logs``
            decides).
    """

    def __init__(
        self,
        agent_config_id: str | None = None,
        name: str | None = None,
        labels: Iterable[str] | None = None,
        env_vars: dict | None = None,
        max_polls: int | None = None,
        agent_address: str | None = None,
        no_cloud_logs: bool | None = None,
    ) -> None:
        config = prefect.config
        agent_config = config.cloud.agent
        self.client = Client()
        self.agent_config_id = agent_config_id
        self.name: str = name or str(agent_config.get("name", "agent"))
        # As in 1.x, no labels (None or empty) means the configured ones.
        self.labels: list[str] = list(labels or _as_list(agent_config.get("labels", [])))
        self.env_vars: dict = dict(env_vars or agent_config.get("env_vars", None) or {})
        self.max_polls = max_polls
        self.heartbeat_period = 60
        self.agent_address: str = agent_address or str(agent_config.get("agent_address", "") or "")
        self._api_server_bind = _parse_agent_address(self.agent_address)
        self.logger = self._get_logger()
        self.submitting_flow_runs: set[str] = set()
        self.log_to_cloud: bool = (
            False if no_cloud_logs else bool(config.cloud.get("send_flow_run_logs", True))
        )
        self._exit_event = threading.Event()
        self._submitting_lock = threading.Lock()
        self._api_server: Any = None
        self._api_server_address: tuple[str, int] | None = None
        self._agent_settings: dict = {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.name}>"

    def _get_logger(self) -> logging.Logger:
        logger = logging.getLogger(self.name)
        level = str(_agent_config().get("level", "INFO")).upper()
        logger.setLevel(level)
        if not any(getattr(h, "_prefect_agent", False) for h in logger.handlers):
            handler = logging.StreamHandler()
            handler.setFormatter(
                logging.Formatter("[%(asctime)s] %(levelname)s - %(name)s | %(message)s")
            )
            handler._prefect_agent = True  # type: ignore[attr-defined]
            logger.addHandler(handler)
        return logger

    @property
    def flow_run_api_key(self) -> Optional[str]:
        """The API key flow runs started by this agent authenticate with: the agent's own."""
        return self.client.api_key or None

    # --- hooks for subclasses ---------------------------------------------------------------

    def on_startup(self) -> None:
        """Called once, after the agent registered and before it polls."""

    def on_shutdown(self) -> None:
        """Called once, when the poll loop has ended."""

    def heartbeat(self) -> None:
        """Called every `heartbeat_period` seconds while the agent runs (no backend request)."""

    def deploy_flow(self, flow_run: GraphQLResult) -> str:
        """Start a flow run somewhere.

        Args:
            flow_run: the run's metadata (id, version, state, run config, flow storage...).

        Returns:
            a description of the deployment, logged to the run as
            ``Submitted for execution: <description>``.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement `deploy_flow`.")

    # --- main loop ----------------------------------------------------------------------------

    def start(self) -> None:
        """Register with the backend, then poll for flow runs and deploy them until stopped
        (SIGINT/SIGTERM, or `max_polls` polls).

        Raises:
            RuntimeError: the backend API cannot be reached.
        """
        self._exit_event.clear()
        with exit_handler(self) as exit_event:
            print(ascii_name)
            self._setup_api_connection()
            if self.agent_config_id:
                self._agent_settings = self._retrieve_agent_config()
            self.on_startup()
            self.logger.info("Starting %s with labels %s", type(self).__name__, self.labels)
            self.logger.info(
                "Agent documentation can be found at https://docs.prefect.io/orchestration/"
            )
            if self.agent_address:
                self._start_agent_api_server()
            heartbeat = threading.Thread(
                target=self._heartbeat_loop, name=f"{self.name}-heartbeat", daemon=True
            )
            heartbeat.start()
            try:
                self._run_poll_loop(exit_event)
            finally:
                exit_event.set()
                self._stop_agent_api_server()
                self.on_shutdown()

    def _run_poll_loop(self, exit_event: threading.Event) -> None:
        minimum, maximum = _poll_intervals()
        idle_polls = 0
        remaining = math.inf if self.max_polls is None else self.max_polls
        self.logger.info("Waiting for flow runs...")
        workers = min(32, (os.cpu_count() or 1) + 4)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=self.name) as executor:
            while remaining > 0 and not exit_event.is_set():
                AGENT_WAKE_EVENT.clear()
                if exit_event.is_set():
                    break
                self._reap()
                if self._submit_deploy_flow_run_jobs(executor):
                    idle_polls = 0
                else:
                    idle_polls += 1
                remaining -= 1
                if remaining <= 0 or exit_event.is_set():
                    break
                interval = min(maximum, minimum * 2**idle_polls)
                self.logger.debug("Sleeping flow run poller for %s seconds...", interval)
                AGENT_WAKE_EVENT.wait(timeout=interval)
            # Runs still waiting for their start time are abandoned on shutdown; they stay
            # Scheduled and another agent (or this one, restarted) takes them.
            if exit_event.is_set():
                executor.shutdown(wait=True, cancel_futures=True)

    def _heartbeat_loop(self) -> None:
        while not self._exit_event.wait(self.heartbeat_period):
            try:
                self.heartbeat()
            except Exception:
                self.logger.exception("Error in the agent heartbeat")

    def _reap(self) -> None:
        """Release finished child processes; `LocalAgent` overrides it."""

    # --- startup ------------------------------------------------------------------------------

    def _register_agent(self) -> str:
        self.logger.info("Registering agent...")
        agent_id = self.client.register_agent(
            agent_type=type(self).__name__,
            name=self.name,
            labels=self.labels,
            agent_config_id=self.agent_config_id,
        )
        self.logger.info("Registration successful!")
        self.logger.debug("Agent ID: %s", agent_id)
        return agent_id

    def _setup_api_connection(self) -> None:
        import requests

        api = self.client.api_server
        try:
            agent_id = self._register_agent()
        except requests.ConnectionError as exc:
            raise RuntimeError(f"Error while contacting API at {api}") from exc
        self.client.attach_headers({"X-PREFECT-AGENT-ID": agent_id})
        self.logger.debug("Sending test query to API at %r", api)
        try:
            self.client.graphql(query="query { hello }")
        except Exception as exc:
            raise RuntimeError(f"Error while contacting API at {api}") from exc

    def _retrieve_agent_config(self) -> dict:
        assert self.agent_config_id is not None
        return self.client.get_agent_config(self.agent_config_id) or {}

    def _start_agent_api_server(self) -> None:
        import asyncio

        assert self._api_server_bind is not None
        host, port = self._api_server_bind
        handlers = [("/api/health", __getattr__("HealthHandler"))]
        handlers.append(("/api/poke", __getattr__("PokeHandler")))
        started = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            from tornado import httpserver, netutil, web

            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                sockets = netutil.bind_sockets(port, address=host)
                server = httpserver.HTTPServer(web.Application(handlers))
                server.add_sockets(sockets)
            except BaseException as exc:
                failure.append(exc)
                started.set()
                loop.close()
                return
            self._api_server = (loop, server)
            self._api_server_address = sockets[0].getsockname()[:2]
            started.set()
            try:
                loop.run_forever()
            finally:
                server.stop()
                loop.run_until_complete(server.close_all_connections())
                loop.close()

        thread = threading.Thread(target=serve, name=f"{self.name}-api-server", daemon=True)
        thread.start()
        started.wait(timeout=30)
        if failure:
            raise failure[0]
        self.logger.info("Agent health server listening on %s:%s", host, port)

    def _stop_agent_api_server(self) -> None:
        if self._api_server is not None:
            loop, _ = self._api_server
            loop.call_soon_threadsafe(loop.stop)
            self._api_server = None

    # --- polling -------------------------------------------------------------------------------

    def _submit_deploy_flow_run_jobs(self, executor: ThreadPoolExecutor) -> bool:
        """One poll: find due runs and hand each to a worker. Returns whether any was found."""
        try:
            flow_run_ids = self._get_ready_flow_runs()
            if not flow_run_ids:
                return False
            self.logger.info("Found %d flow run(s) to submit for execution.", len(flow_run_ids))
            flow_runs = self._get_flow_run_metadata(flow_run_ids)
        except Exception:
            self.logger.exception("Failed to query for ready flow runs")
            return False
        for flow_run in flow_runs:
            with self._submitting_lock:
                if flow_run.id in self.submitting_flow_runs:
                    continue
                self.submitting_flow_runs.add(flow_run.id)
            executor.submit(self._deploy_flow_run, flow_run)
        return True

    def _get_ready_flow_runs(self) -> set[str]:
        import pendulum

        before = pendulum.now("UTC").add(seconds=_QUEUE_LOOKAHEAD_SECONDS)
        mutation = {
            "mutation($input: get_runs_in_queue_input!)": {
                "get_runs_in_queue(input: $input)": {"flow_run_ids"}
            }
        }
        result = self.client.graphql(
            mutation,
            variables={
                "input": {
                    "before": before.isoformat(),
                    "labels": list(self.labels),
                    "tenant_id": self.client.tenant_id,
                }
            },
        )
        ids = set(result.data.get_runs_in_queue.flow_run_ids or [])
        with self._submitting_lock:
            return ids - self.submitting_flow_runs

    def _get_flow_run_metadata(self, flow_run_ids: Iterable[str]) -> list[GraphQLResult]:
        import pendulum

        grace = pendulum.now("UTC").subtract(seconds=_TASK_RUN_GRACE_SECONDS).isoformat()
        where = {
            "id": {"_in": sorted(flow_run_ids)},
            "_or": [
                {"state": {"_eq": "Scheduled"}},
                {"state": {"_eq": "Running"}, "task_runs": {"state_start_time": {"_lte": grace}}},
            ],
        }
        task_runs = with_args("task_runs", {"where": {"state_start_time": {"_lte": grace}}})
        query = {
            "query": {
                with_args("flow_run", {"where": where}): {
                    "id": True,
                    "version": True,
                    "state": True,
                    "serialized_state": True,
                    "parameters": True,
                    "scheduled_start_time": True,
                    "run_config": True,
                    "name": True,
                    "flow": {
                        "id": True,
                        "name": True,
                        "environment": True,
                        "storage": True,
                        "version": True,
                        "core_version": True,
                    },
                    task_runs: {
                        "id": True,
                        "version": True,
                        "task_id": True,
                        "serialized_state": True,
                    },
                }
            }
        }
        flow_runs = list(self.client.graphql(query).data.flow_run or [])
        return sorted(flow_runs, key=_start_time)

    # --- one run -------------------------------------------------------------------------------

    def _deploy_flow_run(self, flow_run: GraphQLResult) -> None:
        """Wait for the run's start time, mark it ``Submitted`` and deploy it (worker thread)."""
        try:
            delay = _seconds_until(_start_time(flow_run))
            if delay > 0:
                self.logger.debug("Waiting %.1f s to deploy flow run %s", delay, flow_run.id)
                if self._exit_event.wait(delay):
                    return
            self._mark_flow_as_submitted(flow_run)
            self.logger.info("Deploying flow run %s to execution environment...", flow_run.id)
            deployment_info = self.deploy_flow(flow_run)
            self.logger.info("Completed deployment of flow run %s", flow_run.id)
            self.client.write_run_logs(
                [
                    dict(
                        flow_run_id=flow_run.id,
                        name=self.name,
                        message=f"Submitted for execution: {deployment_info}",
                        level="INFO",
                    )
                ]
            )
        except Exception as exc:
            if "State update failed" in str(exc):
                # Another agent submitted the run first.
                self.logger.debug("Flow run %s was taken by another agent", flow_run.id)
                return
            self.logger.error("Failed to deploy flow run %s: %s", flow_run.id, exc, exc_info=True)
            self._report_deploy_failure(flow_run, str(exc))
        finally:
            with self._submitting_lock:
                self.submitting_flow_runs.discard(flow_run.id)

    def _report_deploy_failure(self, flow_run: GraphQLResult, message: str) -> None:
        from prefect.engine.state import Failed

        try:
            self.client.write_run_logs(
                [dict(flow_run_id=flow_run.id, name=self.name, message=message, level="ERROR")]
            )
            self.client.set_flow_run_state(
                flow_run_id=flow_run.id, version=flow_run.version, state=Failed(message=message)
            )
        except Exception:
            self.logger.exception("Could not report the failure of flow run %s", flow_run.id)

    def _mark_flow_as_submitted(self, flow_run: GraphQLResult) -> None:
        from prefect.engine.state import State, Submitted

        current = State.deserialize(_plain(flow_run.serialized_state))
        if current.is_scheduled():
            self.client.set_flow_run_state(
                flow_run_id=flow_run.id,
                version=flow_run.version,
                state=Submitted(message="Submitted for execution", state=current),
            )
        for task_run in flow_run.get("task_runs") or []:
            if not task_run.serialized_state:
                continue
            task_state = State.deserialize(_plain(task_run.serialized_state))
            if task_state.is_scheduled():
                self.client.set_task_run_state(
                    task_run_id=task_run.id,
                    version=task_run.version,
                    state=Submitted(message="Submitted for execution.", state=task_state),
                )

    def _get_run_config(
        self, flow_run: GraphQLResult, run_config_cls: type[RunConfig]
    ) -> RunConfig | None:
        """The run's run config as `run_config_cls`; a `UniversalRun` is converted.

        Raises:
            TypeError: the run config is of another kind.
        """
        from prefect.run_configs import UniversalRun
        from prefect.serialization.run_config import RunConfigSchema

        serialized = flow_run.get("run_config")
        if serialized is None:
            return None
        run_config = RunConfigSchema().load(_plain(serialized))
        if isinstance(run_config, UniversalRun):
            return run_config_cls(env=run_config.env, labels=run_config.labels)  # type: ignore[call-arg]
        if not isinstance(run_config, run_config_cls):
            message = (
                f"Flow run {flow_run.id} has a `run_config` of type "
                f"`{type(run_config).__name__}`, only `{run_config_cls.__name__}` is supported"
            )
            self.logger.error(message)
            raise TypeError(message)
        return run_config


def _parse_agent_address(address: str) -> tuple[str, int] | None:
    """``(host, port)`` of an ``http://HOST:PORT`` address; None for an empty one.

    Raises:
        ValueError: the address has no host or port.
    """
    if not address:
        return None
    from urllib.parse import urlparse

    try:
        parsed = urlparse(address)
        host, port = parsed.hostname, parsed.port
    except ValueError:
        host, port = None, None
    if not host or port is None:
        raise ValueError(
            f"Invalid agent address {address!r}: give it as http://HOST:PORT, e.g. "
            "http://127.0.0.1:8080."
        )
    return host, port


def _poll_intervals() -> tuple[float, float]:
    agent_config = _agent_config()
    minimum = float(agent_config.get("poll_interval_min", _POLL_INTERVAL_MIN))
    maximum = float(agent_config.get("poll_interval_max", _POLL_INTERVAL_MAX))
    return minimum, max(minimum, maximum)


def _start_time(flow_run: GraphQLResult) -> float:
    """The run's start time (UNIX seconds; 0 when it has none)."""
    import pendulum

    state = flow_run.get("serialized_state") or {}
    value = state.get("start_time")
    if not value:
        return 0.0
    try:
        return float(pendulum.parse(value).timestamp())  # type: ignore[union-attr]
    except (ValueError, TypeError, AttributeError):
        return 0.0


def _seconds_until(timestamp: float) -> float:
    return timestamp - time.time() if timestamp else 0.0


def _plain(value: Any) -> Any:
    return value.to_dict() if isinstance(value, GraphQLResult) else value


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        import ast

        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return [value] if value else []
        return [str(item) for item in parsed] if isinstance(parsed, (list, tuple)) else [value]
    return [str(item) for item in value or []]
