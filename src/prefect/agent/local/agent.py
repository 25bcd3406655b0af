"""`LocalAgent`: deploys each flow run as a `prefect execute flow-run` process on this machine.

The process gets its own session (so a Ctrl-C aimed at the agent does not reach it: flow runs
outlive the agent, as in 1.x), the environment `populate_env_vars` builds, and the run
config's working directory. Its output goes to the agent's terminal with ``show_flow_logs``,
else nowhere (the run's logs go to the backend).
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Dict, List, Optional

import prefect
from prefect.agent.agent import Agent
from prefect.utilities.agent import get_flow_run_command
from prefect.utilities.graphql import GraphQLResult

if TYPE_CHECKING:
    from prefect.run_configs import LocalRun

__all__ = ["LocalAgent"]


class LocalAgent(Agent):
    """An agent that runs flows as processes on the machine it runs on.

    Args:
        agent_config_id: an agent config to attach to.
        name: the agent's name (default: ``cloud.agent.name``).
        labels: the agent's labels (default: ``cloud.agent.labels``).
        env_vars: environment variables given to every flow run.
        import_paths: directories added to the flow runs' ``PYTHONPATH``.
        show_flow_logs: send the flow-run processes' output to the agent's terminal.
        hostname_label: add this machine's hostname to the labels (flows registered with
            Local storage carry it, so only an agent on the same machine takes their runs).
        max_polls: stop after this many polls (default: run until stopped).
        agent_address: ``http://HOST:PORT`` of a health server to start.
        no_cloud_logs: keep flow-run logs off the backend.
    """

    def __init__(
        self,
        agent_config_id: str | None = None,
        name: str | None = None,
        labels: Iterable[str] | None = None,
        env_vars: dict | None = None,
        import_paths: List[str] | None = None,
        show_flow_logs: bool = False,
        hostname_label: bool = True,
        max_polls: int | None = None,
        agent_address: str | None = None,
        no_cloud_logs: bool | None = None,
    ) -> None:
        super().__init__(
            agent_config_id=agent_config_id,
            name=name,
            labels=labels,
            env_vars=env_vars,
            max_polls=max_polls,
            agent_address=agent_address,
            no_cloud_logs=no_cloud_logs,
        )
        self.processes: set[subprocess.Popen] = set()
        self.import_paths: list[str] = list(import_paths or [])
        self.show_flow_logs = show_flow_logs
        hostname = socket.gethostname()
        if hostname_label and hostname not in self.labels:
            self.labels.append(hostname)
        self.logger.debug("Import paths: %s", self.import_paths)
        self.logger.debug("Show flow logs: %s", self.show_flow_logs)

    def heartbeat(self) -> None:
        """Release finished flow-run processes, logging those that failed."""
        self._reap()
        super().heartbeat()

    def _reap(self) -> None:
        for process in list(self.processes):
            if process.poll() is None:
                continue
            self.processes.discard(process)
            if process.returncode:
                self.logger.info(
                    "Process PID %s returned non-zero exit code %s!",
                    process.pid,
                    process.returncode,
                )

    def deploy_flow(self, flow_run: GraphQLResult) -> str:
        """Start ``python -m prefect execute flow-run`` for the run.

        Args:
            flow_run: the run's metadata.

        Returns:
            ``"PID: <pid>"``.

        Raises:
            ValueError: the flow uses Docker storage, or its working directory is missing.
            TypeError: the run config is neither `LocalRun` nor `UniversalRun`.
        """
        from prefect.run_configs import LocalRun

        storage = flow_run.flow.get("storage") or {}
        if storage.get("type") == "Docker":
            raise ValueError(
                "Flow is using Docker storage, which is not supported by the LocalAgent; "
                "use another storage or run a Docker agent."
            )
        run_config: Optional[LocalRun] = self._get_run_config(flow_run, LocalRun)  # type: ignore[assignment]
        env = self.populate_env_vars(flow_run, run_config=run_config)
        working_dir = run_config.working_dir if run_config is not None else None
        if working_dir and not os.path.isdir(working_dir):
            message = (
                f"Flow run {flow_run.id} has a nonexistent `working_dir` configured: {working_dir}"
            )
            self.logger.error(message)
            raise ValueError(message)
        command = get_flow_run_command(flow_run)
        if command.startswith("prefect "):
            command = f"{shlex.quote(sys.executable)} -m {command}"
        process = subprocess.Popen(
            shlex.split(command),
            stdout=None if self.show_flow_logs else subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=working_dir,
            start_new_session=True,
        )
        self.processes.add(process)
        self.logger.debug("Submitted flow run %s to process PID %s", flow_run.id, process.pid)
        return f"PID: {process.pid}"

    def populate_env_vars(
        self, flow_run: GraphQLResult, run_config: LocalRun | None = None
    ) -> dict:
        """The environment of a flow-run process.

        This process's environment, then the agent's `env_vars`, then the run config's
        ``env``, then the values that make the process a backend flow run (API, flow run id,
        labels, log settings, the cloud flow runner), which win. ``PYTHONPATH`` is the working
        directory (or the agent's current one), the import paths, then any ``PYTHONPATH``
        already set.

        Args:
            flow_run: the run's metadata.
            run_config: its run config.

        Returns:
            variable names to values.
        """
        config = prefect.config
        env: Dict[str, Optional[str]] = dict(os.environ)
        env.update({str(k): _text(v) for k, v in self.env_vars.items()})
        if run_config is not None and run_config.env:
            env.update({str(k): _text(v) for k, v in run_config.env.items()})

        python_path = [
            run_config.working_dir
            if run_config is not None and run_config.working_dir
            else os.getcwd()
        ]
        python_path.extend(self.import_paths)
        if env.get("PYTHONPATH"):
            python_path.append(str(env["PYTHONPATH"]))
        env["PYTHONPATH"] = os.pathsep.join(python_path)

        env.update(
            {
                "PREFECT__BACKEND": str(config.backend),
                "PREFECT__CLOUD__API": str(self.client.api_server),
                "PREFECT__CLOUD__AGENT__LABELS": str(self.labels),
                "PREFECT__CONTEXT__FLOW_RUN_ID": str(flow_run.id),
                "PREFECT__CONTEXT__FLOW_ID": str(flow_run.flow.id),
                "PREFECT__CLOUD__USE_LOCAL_SECRETS": "false",
                "PREFECT__CLOUD__SEND_FLOW_RUN_LOGS": str(self.log_to_cloud).lower(),
                "PREFECT__LOGGING__LEVEL": str(config.logging.level),
                "PREFECT__ENGINE__FLOW_RUNNER__DEFAULT_CLASS": (
                    "prefect.engine.cloud.CloudFlowRunner"
                ),
            }
        )
        api_key = self.flow_run_api_key
        if api_key:
            env["PREFECT__CLOUD__API_KEY"] = api_key
            env["PREFECT__CLOUD__TENANT_ID"] = self.client.tenant_id
        return {key: value for key, value in env.items() if value is not None}

    @staticmethod
    def generate_supervisor_conf(
        token: str | None = None,
        labels: Iterable[str] | None = None,
        env_vars: dict | None = None,
        import_paths: List[str] | None = None,
        show_flow_logs: bool = False,
        key: str | None = None,
        tenant_id: str | None = None,
        agent_config_id: str | None = None,
    ) -> str:
        """A supervisord configuration that keeps a local agent running.

        Args:
            token: deprecated (Prefect Cloud tokens); used as the API key when none is given.
            labels: the agent's labels.
            env_vars: environment variables for flow runs.
            import_paths: directories added to the flow runs' ``PYTHONPATH``.
            show_flow_logs: send flow-run output to the agent's log.
            key: an API key.
            tenant_id: a tenant id.
            agent_config_id: an agent config id.

        Returns:
            the text of a ``supervisord.conf``.
        """
        arguments: list[str] = []
        # Tokens were replaced by API keys; a token is passed where the key goes.
        key = key or token
        if key:
            arguments += ["--key", key]
        if tenant_id:
            arguments += ["--tenant-id", tenant_id]
        if agent_config_id:
            arguments += ["--agent-config-id", agent_config_id]
        for label in labels or []:
            arguments += ["-l", label]
        for name, value in (env_vars or {}).items():
            arguments += ["-e", f"{name}={value}"]
        for path in import_paths or []:
            arguments += ["-p", path]
        if show_flow_logs:
            arguments.append("-f")
        command = " ".join(["prefect agent local start", *map(shlex.quote, arguments)])
        return _SUPERVISOR_TEMPLATE.format(command=command)


_SUPERVISOR_TEMPLATE = """\
; supervisord configuration for a Prefect local agent.
; Run it with `supervisord -c <this file>`; `supervisorctl status` shows the agent.

[unix_http_server]
file=/tmp/supervisor.sock

[supervisord]
loglevel=info

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix:///tmp/supervisor.sock

[program:prefect-agent]
command={command}
autorestart=true
redirect_stderr=true
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
"""


def _text(value: object) -> Optional[str]:
    return None if value is None else str(value)
