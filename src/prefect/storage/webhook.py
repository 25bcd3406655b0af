"""`Webhook` storage: flows uploaded and downloaded with plain HTTP requests."""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from prefect.storage._util import render_dict
from prefect.storage.base import Storage
from prefect.utilities.storage import (
    extract_flow_from_file,
    flow_from_bytes_pickle,
    flow_to_bytes_pickle,
)

if TYPE_CHECKING:
    from prefect.core.flow import Flow

__all__ = ["Webhook"]

_HTTP_METHODS = ("GET", "PATCH", "POST", "PUT")


def _send(method: str, **request_kwargs: Any) -> Any:
    """Send with `requests.get`/`post`/`put`/`patch`, looked up at call time."""
    import requests

    return getattr(requests, method.lower())(**request_kwargs)


class Webhook(Storage):
    """Keep flows behind any HTTP API: `build` sends each flow in a request, `get_flow` fetches it.

    The request keyword arguments (for `requests.request`: ``url``, ``headers``, ``params``,
    ...) are serialized with the storage, so never put credentials in them directly: a string
    ``"${NAME}"`` anywhere in them is replaced, at request time, by the environment variable
    ``NAME`` or else the Prefect secret ``NAME``. The uploaded body (``data``) is the pickled
    flow, or the script at ``flow_script_path`` when ``stored_as_script``.

    Args:
        build_request_kwargs: keyword arguments of the upload request.
        build_request_http_method: its method: ``"POST"``, ``"PUT"`` or ``"PATCH"``.
        get_flow_request_kwargs: keyword arguments of the download request.
        get_flow_request_http_method: its method, usually ``"GET"``.
        stored_as_script: whether the flow is uploaded as its ``.py`` script.
        flow_script_path: the script to upload when ``stored_as_script``.
        **kwargs: passed to `Storage` (``secrets``, ``labels``, ``add_default_labels``).

    Raises:
        ValueError: if a method is not one of GET, PATCH, POST, PUT.
    """

    def __init__(
        self,
        build_request_kwargs: dict[str, Any],
        build_request_http_method: str,
        get_flow_request_kwargs: dict[str, Any],
        get_flow_request_http_method: str,
        stored_as_script: bool = False,
        flow_script_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        for method in (build_request_http_method, get_flow_request_http_method):
            if method not in _HTTP_METHODS:
                raise ValueError(
                    f"HTTP method {method!r} is not supported; use one of "
                    f"{', '.join(_HTTP_METHODS)}."
                )
        self.stored_as_script = stored_as_script
        self.flow_script_path = flow_script_path
        self.build_request_kwargs = build_request_kwargs
        self.build_request_http_method = build_request_http_method
        self.get_flow_request_kwargs = get_flow_request_kwargs
        self.get_flow_request_http_method = get_flow_request_http_method
        # Method -> sender; each looks `requests.<method>` up when called (tests patch either).
        self._method_to_function: dict[str, Callable[..., Any]] = {
            method: functools.partial(_send, method) for method in _HTTP_METHODS
        }
        # Flow name -> the response of its upload, for callers that need it (ids, URLs).
        self._build_responses: dict[str, Any] | None = None
        super().__init__(stored_as_script=stored_as_script, **kwargs)

    @property
    def default_labels(self) -> list[str]:
        """``webhook-flow-storage``."""
        return ["webhook-flow-storage"]

    def get_flow(self, flow_name: str) -> Flow:
        """Send the download request and load the flow from the response body.

        Raises:
            ValueError: if the flow is not in this storage.
            requests.HTTPError: if the response status is an error.
        """
        if flow_name not in self.flows:
            raise ValueError(f"Flow {flow_name!r} is not contained in this Storage")
        request_kwargs = render_dict(self.get_flow_request_kwargs)
        response = self._method_to_function[self.get_flow_request_http_method](**request_kwargs)
        response.raise_for_status()
        if self.stored_as_script:
            return extract_flow_from_file(
                file_contents=response.content.decode("utf-8"), flow_name=flow_name
            )
        return flow_from_bytes_pickle(response.content)

    def add_flow(self, flow: Flow) -> str:
        """Record the flow (it is uploaded by `build`) and return its name.

        Raises:
            ValueError: if a flow of the same name is already here.
        """
        self._check_new_flow(flow)
        self.flows[flow.name] = flow.name
        self._flows[flow.name] = flow
        return flow.name

    def build(self) -> Webhook:
        """Upload every added flow (or the script) with the build request.

        Raises:
            ValueError: if ``stored_as_script`` is set and ``flow_script_path`` is missing or
                not a file.
            requests.HTTPError: if an upload's response status is an error.
        """
        self.run_basic_healthchecks()
        self._build_responses = {}
        for flow_name, flow in self._flows.items():
            self.logger.info("Uploading flow '%s'", flow_name)
            if self.stored_as_script:
                # Checked here, not in __init__, so storage loaded from JSON needs no script.
                if not self.flow_script_path:
                    raise ValueError("flow_script_path must be provided if stored_as_script=True")
                if not os.path.isfile(self.flow_script_path):
                    raise ValueError(
                        f"file '{self.flow_script_path}' passed to flow_script_path does not exist"
                    )
                with open(self.flow_script_path, "rb") as f:
                    data = f.read()
            else:
                data = flow_to_bytes_pickle(flow)

            request_kwargs = render_dict(self.build_request_kwargs)
            if "data" in request_kwargs:
                message = (
                    "'data' found in build_request_kwargs. This value is overwritten with the "
                    "flow content and should not be set directly"
                )
                self.logger.warning(message)
                warnings.warn(message, RuntimeWarning, stacklevel=2)
            request_kwargs["data"] = data
            response = self._method_to_function[self.build_request_http_method](**request_kwargs)
            response.raise_for_status()
            self._build_responses[flow_name] = response
            self.logger.info("Successfully uploaded flow '%s'", flow_name)
        return self
