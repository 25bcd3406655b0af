"""`Docker` storage: flows baked into a Docker image, built and pushed with the docker SDK."""

from __future__ import annotations

import json
import os
import re
import sys
import warnings
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

import prefect
from prefect.storage._util import import_sdk
from prefect.storage.base import Storage
from prefect.utilities.storage import (
    extract_flow_from_file,
    flow_from_bytes_pickle,
    flow_to_bytes_pickle,
)

if TYPE_CHECKING:
    from prefect.core.flow import Flow

__all__ = ["Docker", "multiline_indent"]

_RELEASE_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")


def multiline_indent(string: str, spaces: int) -> str:
    """Indent every line of ``string`` after the first by ``spaces`` spaces."""
    return string.replace("\n", "\n" + " " * spaces)


class Docker(Storage):
    """Keep flows inside a Docker image.

    `build` writes a Dockerfile (the base image or your ``dockerfile``, then the Python
    dependencies, the pickled flows, your ``files``, ``env_vars`` and
    ``extra_dockerfile_commands``, then a health check that loads every flow), builds the image
    with the docker daemon at ``base_url`` and pushes it to ``registry_url``. Agents run the
    image (`name`) and load the flow from inside it.

    Args:
        registry_url: the registry to push to (no push without one).
        base_image: the image to build from; default ``prefecthq/prefect:<version>-python<X.Y>``
            for release versions of Prefect, else ``python:<X.Y>-slim`` with Prefect installed.
        dockerfile: a Dockerfile to start from instead of ``base_image``.
        dockerignore: a ``.dockerignore`` file for the build context.
        python_dependencies: packages to ``pip install`` in the image.
        image_name: the image's name; default the flow's slugified name (or a UUID).
        image_tag: the image's tag; default a slugified timestamp.
        env_vars: environment variables of the image.
        files: absolute local paths -> paths in the image, copied in.
        prefect_version: the Prefect version (or git ref) to install on a ``python`` base image.
        local_image: use a base image that exists locally (do not pull it).
        ignore_healthchecks: leave the health check out of the image.
        base_url: the docker daemon URL; default ``$DOCKER_HOST`` or the local socket.
        tls_config: the docker client's TLS settings (``docker.tls.TLSConfig`` or a bool).
        build_kwargs: more keyword arguments of the docker build.
        prefect_directory: where Prefect's files go in the image.
        path: the flow's path in the image (required with ``stored_as_script``).
        stored_as_script: whether the flow is a script copied in through ``files``.
        extra_dockerfile_commands: Dockerfile lines added before the health check.
        **kwargs: passed to `Storage` (``secrets``, ``labels``, ``add_default_labels``).

    Raises:
        ValueError: if both ``base_image`` and ``dockerfile`` are given, or a ``files`` key
            is not an absolute path.
    """

    def __init__(
        self,
        registry_url: str | None = None,
        base_image: str | None = None,
        dockerfile: str | None = None,
        dockerignore: str | None = None,
        python_dependencies: list[str] | None = None,
        image_name: str | None = None,
        image_tag: str | None = None,
        env_vars: dict | None = None,
        files: dict | None = None,
        prefect_version: str | None = None,
        local_image: bool = False,
        ignore_healthchecks: bool = False,
        base_url: str | None = None,
        tls_config: Any = False,
        build_kwargs: dict | None = None,
        prefect_directory: str = "/opt/prefect",
        path: str | None = None,
        stored_as_script: bool = False,
        extra_dockerfile_commands: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        self.registry_url = registry_url
        self.image_name = image_name
        self.image_tag = image_tag
        self.python_dependencies = [*(python_dependencies or []), "wheel"]
        self.prefect_directory = prefect_directory
        self.path = path
        self.env_vars = dict(env_vars or {})
        self.env_vars.setdefault(
            "PREFECT__USER_CONFIG_PATH", f"{self.prefect_directory}/config.toml"
        )
        self.files = dict(files or {})
        self.local_image = local_image
        self.installation_commands: list[str] = []
        self.ignore_healthchecks = ignore_healthchecks
        default_url = (
            "npipe:////./pipe/docker_engine"
            if sys.platform == "win32"
            else "unix://var/run/docker.sock"
        )
        self.base_url = base_url or os.environ.get("DOCKER_HOST", default_url)
        self.tls_config = tls_config
        self.build_kwargs = dict(build_kwargs or {})
        # `rm` is passed on its own so that a caller's value cannot clash with ours.
        self.rm_build_kwarg = self.build_kwargs.pop("rm", True)
        self.extra_dockerfile_commands = extra_dockerfile_commands
        self.dockerfile = dockerfile
        self.dockerignore = dockerignore

        version = prefect.__version__.split("+")
        if prefect_version is None:
            self.prefect_version = "master" if len(version) > 1 else version[0]
        else:
            self.prefect_version = prefect_version

        if base_image and dockerfile:
            raise ValueError(
                "Only one of `base_image` and `dockerfile` can be used at the same time"
            )
        self.base_image: str | None = base_image
        if base_image is None and dockerfile is None:
            python_version = "{}.{}".format(*sys.version_info[:2])
            if _RELEASE_VERSION.match(self.prefect_version):
                self.base_image = f"prefecthq/prefect:{self.prefect_version}-python{python_version}"
            else:
                # Not a release: start from Python and install Prefect from that git ref.
                self.base_image = f"python:{python_version}-slim"
                self.installation_commands.append(
                    "apt update && apt install -y gcc git make && rm -rf /var/lib/apt/lists/*"
                )
                self.installation_commands.append(
                    "pip show prefect || pip install git+https://github.com/PrefectHQ/prefect.git"
                    f"@{self.prefect_version}#egg=prefect[all_orchestration_extras]"
                )

        not_absolute = [file_path for file_path in self.files if not os.path.isabs(file_path)]
        if not_absolute:
            raise ValueError(
                f"Provided paths {', '.join(not_absolute)} are not absolute file paths, please "
                "provide absolute paths only."
            )
        super().__init__(stored_as_script=stored_as_script, **kwargs)

    @property
    def name(self) -> str:
        """The full image name, ``<registry_url>/<image_name>:<image_tag>``.

        Raises:
            ValueError: before `build` (or without ``image_name`` and ``image_tag``).
        """
        if self.image_name is None or self.image_tag is None:
            raise ValueError(
                "Docker storage is missing required fields image_name and image_tag; build "
                "the storage or pass them."
            )
        return f"{PurePosixPath(self.registry_url or '', self.image_name)}:{self.image_tag}"

    def add_flow(self, flow: Flow) -> str:
        """Record the flow and its path in the image; return the path.

        Raises:
            ValueError: if a flow of the same name is already here, or ``stored_as_script``
                is set without a ``path``.
        """
        from slugify import slugify

        self._check_new_flow(flow)
        if self.stored_as_script:
            if not self.path:
                raise ValueError(
                    "A `path` must be provided to show where the flow `.py` file is stored "
                    "in the image."
                )
            flow_path = self.path
        else:
            flow_path = self.path or f"{self.prefect_directory}/flows/{slugify(flow.name)}.prefect"
        self.flows[flow.name] = flow_path
        self._flows[flow.name] = flow
        return flow_path

    def get_flow(self, flow_name: str) -> Flow:
        """Load the flow from its file inside the running image.

        Raises:
            ValueError: if the flow is not in this storage.
        """
        if flow_name not in self.flows:
            raise ValueError(f"Flow {flow_name!r} is not contained in this Storage")
        flow_path = self.flows[flow_name]
        if self.stored_as_script:
            return extract_flow_from_file(file_path=flow_path, flow_name=flow_name)
        with open(flow_path, "rb") as f:
            return flow_from_bytes_pickle(f.read())

    def build(self, push: bool = True) -> Storage:
        """Build the image (and push it when ``push`` and a ``registry_url`` are set).

        Unset ``image_name`` and ``image_tag`` get their defaults here.

        Raises:
            ValueError: if the image is missing after the build (a failed health check).
            InterruptedError: if the daemon reports an error while pulling or pushing.
        """
        import uuid

        from slugify import slugify

        if len(self.flows) != 1:
            self.image_name = self.image_name or str(uuid.uuid4())
        else:
            self.image_name = self.image_name or slugify(next(iter(self.flows)))
        self.image_tag = self.image_tag or slugify(_now_iso())
        self._build_image(push=push)
        return self

    def _get_client(self) -> Any:
        docker = import_sdk("docker", "docker", "Docker", install="pip install docker")
        return docker.APIClient(base_url=self.base_url, version="auto", tls=self.tls_config)

    def _build_image(self, push: bool = True) -> tuple[str, str]:
        import tempfile

        assert isinstance(self.image_name, str), "Image name must be provided"
        assert isinstance(self.image_tag, str), "An image tag must be provided"
        # With a user Dockerfile the context is its directory, so its relative COPY lines work.
        context = os.path.dirname(os.path.abspath(self.dockerfile)) if self.dockerfile else None
        with tempfile.TemporaryDirectory(dir=context) as tempdir:
            if self.base_image and not self.local_image:
                self.pull_image()
            dockerfile_path = self.create_dockerfile_object(directory=tempdir)
            client = self._get_client()
            if self.registry_url:
                full_name = str(PurePosixPath(self.registry_url, self.image_name))
            else:
                if push:
                    warnings.warn(
                        "This Docker storage object has no `registry_url`, and will not be pushed.",
                        UserWarning,
                        stacklevel=3,
                    )
                full_name = self.image_name
            tag = f"{full_name}:{self.image_tag}"
            self.logger.info("Building the flow's Docker storage...")
            build_kwargs = {"decode": True, **self.build_kwargs}
            output = client.build(
                path=context or tempdir,
                dockerfile=dockerfile_path,
                tag=tag,
                rm=self.rm_build_kwarg,
                **build_kwargs,
            )
            self._parse_generator_output(output)
            if len(client.images(name=tag)) == 0:
                raise ValueError(
                    "Your docker image failed to build!  Your flow might have failed one of its "
                    "deployment health checks - please ensure that all necessary files and "
                    "dependencies have been included."
                )
            if push and self.registry_url:
                self.push_image(full_name, self.image_tag)
                # The pushed image is in the registry; do not keep a second copy locally.
                client.remove_image(image=tag, force=True)
        return self.image_name, self.image_tag

    def create_dockerfile_object(self, directory: str) -> str:
        """Write the Dockerfile, the pickled flows and the copied files into ``directory``.

        Args:
            directory: a directory inside the build context.

        Returns:
            the Dockerfile's path.
        """
        import shutil

        context = os.path.dirname(os.path.abspath(self.dockerfile)) if self.dockerfile else None
        # COPY sources are relative to the build context.
        prefix = os.path.relpath(directory, context) + "/" if context else ""

        if self.dockerfile:
            with open(self.dockerfile, encoding="utf-8") as f:
                base_commands = f.read()
        else:
            base_commands = f"FROM {self.base_image}"

        lines = [base_commands, "", "RUN pip install pip --upgrade"]
        lines += [f"RUN {command}" for command in self.installation_commands]
        if self.python_dependencies:
            lines.append("RUN pip install " + " ".join(self.python_dependencies))
        lines.append(f"RUN mkdir -p {self.prefect_directory}/")

        from slugify import slugify

        for flow_name, flow in self._flows.items():
            if self.stored_as_script:
                continue
            file_name = f"{slugify(flow_name)}.flow"
            with open(os.path.join(directory, file_name), "wb") as f:
                f.write(flow_to_bytes_pickle(flow))
            lines.append(f"COPY {prefix}{file_name} {self.flows[flow_name]}")

        for index, (source, destination) in enumerate(sorted(self.files.items())):
            copied = f"file_{index}_{os.path.basename(source.rstrip('/'))}"
            if os.path.isdir(source):
                shutil.copytree(source, os.path.join(directory, copied))
            else:
                shutil.copy2(source, os.path.join(directory, copied))
            lines.append(f"COPY {prefix}{copied} {destination}")

        if self.env_vars:
            assignments = " \\\n".join(
                f"{key}={json.dumps(str(value))}" for key, value in sorted(self.env_vars.items())
            )
            lines.append("ENV " + multiline_indent(assignments, 4))

        lines += list(self.extra_dockerfile_commands or [])

        if not self.ignore_healthchecks:
            from prefect.storage import _healthcheck

            shutil.copy2(_healthcheck.__file__, os.path.join(directory, "healthcheck.py"))
            lines.append(f"COPY {prefix}healthcheck.py {self.prefect_directory}/healthcheck.py")
            flow_paths = json.dumps(sorted(self.flows.values()))
            python_version = "({}, {})".format(*sys.version_info[:2])
            script_flag = " script" if self.stored_as_script else ""
            lines.append(
                f"RUN python {self.prefect_directory}/healthcheck.py '{flow_paths}' "
                f"'{python_version}'{script_flag}"
            )

        if self.dockerignore:
            shutil.copy2(self.dockerignore, os.path.join(directory, ".dockerignore"))

        dockerfile_path = os.path.join(directory, "Dockerfile")
        with open(dockerfile_path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        return dockerfile_path

    def pull_image(self) -> None:
        """Pull ``base_image`` from its registry.

        Raises:
            InterruptedError: if the daemon reports an error.
        """
        client = self._get_client()
        self.logger.info("Pulling base image %s...", self.base_image)
        for line in client.pull(self.base_image, stream=True, decode=True):
            if line.get("error"):
                raise InterruptedError(line["error"])

    def push_image(self, image_name: str, image_tag: str) -> None:
        """Push the built image to the registry.

        Raises:
            InterruptedError: if the daemon reports an error.
        """
        client = self._get_client()
        self.logger.info("Pushing image to the registry...")
        for line in client.push(image_name, tag=image_tag, stream=True, decode=True):
            if line.get("error"):
                raise InterruptedError(line["error"])

    def _parse_generator_output(self, generator: Any) -> None:
        """Log the build's output lines; a line with an error is logged as an error."""
        for item in generator:
            if isinstance(item, bytes):
                try:
                    item = json.loads(item.decode("utf-8"))
                except ValueError:
                    continue
            if not isinstance(item, dict):
                continue
            if item.get("error"):
                self.logger.error(str(item["error"]).strip())
            text = item.get("stream") or item.get("message")
            if text and str(text).strip():
                self.logger.debug(str(text).strip())


def _now_iso() -> str:
    """The current UTC time as ISO text (a default image tag once slugified)."""
    import pendulum

    return str(pendulum.now("utc").isoformat())
