"""`Client`: talks GraphQL to a Prefect 1 backend (Prefect Server or Cloud) over HTTP.

Where things come from:

- the API URL: the ``api_server`` argument, else ``cloud.api`` (which is ``server.endpoint``
  when ``backend = "server"``); requests go to that URL with any trailing ``/`` removed;
- the API key and the tenant id: the arguments, else ``cloud.api_key`` / ``cloud.tenant_id``,
  else the auth file ``{home_dir}/auth.toml``, a TOML table per API server (the table name is
  the server URL slugified, e.g. ``[https-api.prefect.io]``) holding ``api_key`` and
  ``tenant_id``; with neither, a Server client finds its tenant by asking for the first one
  (``query { tenant { id } }``) the first time `Client.tenant_id` is read.

Every request carries ``X-PREFECT-CORE-VERSION``; ``Authorization: Bearer <key>`` when an API
key is set, and ``X-PREFECT-TENANT-ID`` when a key and a tenant id both are. The HTTP policy
(retries, rate limits, error types) is in `prefect.client._http`; projects and registration in
`prefect.client._flows`; the flow-run, task-run, log, agent and artifact calls in
`prefect.client._runs`.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, NamedTuple, Optional, Union

import prefect
from prefect.client._flows import FlowsMixin
from prefect.client._runs import RunsMixin
from prefect.exceptions import AuthorizationError, ClientError, VersionLockMismatchSignal
from prefect.utilities.graphql import (
    EnumValue,
    GraphQLResult,
    parse_graphql,
    with_args,
)
from prefect.utilities.logging import create_diagnostic_logger

if TYPE_CHECKING:
    import requests


__all__ = ["Client", "FlowRunInfoResult", "JSONLike", "ProjectInfo", "TaskRunInfoResult"]

JSONLike = Union[bool, dict, list, str, int, float, None]

# How often a request whose answer carries an `API_ERROR` is sent again, and the first pause
# (doubled each time).
API_ERROR_RETRIES = 6
API_ERROR_BACKOFF: float = 0.25


class TaskRunInfoResult(NamedTuple):
    """What the backend knows of a task run: ids, version and current state."""

    id: str
    task_id: str
    task_slug: str
    version: int
    state: prefect.engine.state.State


class ProjectInfo(NamedTuple):
    """A project's id and name."""

    id: str
    name: str


class FlowRunInfoResult(NamedTuple):
    """What the backend knows of a flow run, with its unmapped task runs."""

    id: str
    name: str
    flow_id: str
    project: ProjectInfo
    parameters: Dict[str, Any]
    context: Dict[str, Any]
    version: int
    scheduled_start_time: datetime.datetime
    state: prefect.engine.state.State
    task_runs: List[TaskRunInfoResult]


def _init_with_fields(cls: type) -> None:
    """Give a `NamedTuple` an ``__init__`` whose signature names its fields.

    The tuple is built by ``__new__``; ``__init__`` does nothing, but `inspect.signature` of
    it then reads ``(self, <fields>)`` as in 1.x documentation instead of
    ``(self, /, *args, **kwargs)``.
    """
    import inspect

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        pass

    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    names = ("self", *cls._fields)  # type: ignore[attr-defined]
    __init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(name, positional) for name in names]
    )
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = __init__  # type: ignore[misc]


for _named_tuple in (TaskRunInfoResult, ProjectInfo, FlowRunInfoResult):
    _init_with_fields(_named_tuple)


def _config() -> Any:
    """The configuration in force: `prefect.context.config` (what 1.x reads), else the loaded
    `prefect.config`."""
    return prefect.context.get("config") or prefect.config


def _slugify_server(api_server: str) -> str:
    from slugify import slugify

    return str(slugify(api_server, regex_pattern=r"[^-\.a-z0-9]+"))


class Client(FlowsMixin, RunsMixin):
    """A client of the Prefect 1 GraphQL API.

    Args:
        api_server: the API URL (default: ``cloud.api``).
        api_key: an API key (default: ``cloud.api_key``, else the auth file).
        tenant_id: the tenant to act in (default: ``cloud.tenant_id``, else the auth file;
            Server clients otherwise use the server's first tenant).
    """

    logger = create_diagnostic_logger("client.diagnostics")

    def __init__(
        self,
        api_server: str | None = None,
        api_key: str | None = None,
        tenant_id: str | None = None,
    ) -> None:
        config = _config()
        self._attached_headers: dict[str, str] = {}
        self._session: requests.Session | None = None
        self.api_server: str = api_server or _default_api_server(config)
        cached = self.load_auth_from_disk()
        self.api_key: Optional[str] = (
            api_key or config.cloud.get("api_key") or cached.get("api_key") or None
        )
        self._tenant_id: Optional[str] = (
            tenant_id or config.cloud.get("tenant_id") or cached.get("tenant_id") or None
        )

    def __repr__(self) -> str:
        return f"<Client: {self.api_server}>"

    # --- authentication --------------------------------------------------------------------

    @property
    def _auth_file(self) -> Path:
        return Path(str(_config().home_dir)).expanduser() / "auth.toml"

    def load_auth_from_disk(self) -> Dict[str, str]:
        """Read this API server's table of the auth file (``{home_dir}/auth.toml``).

        Returns:
            the stored ``api_key`` and ``tenant_id`` (an empty dict when there are none).
        """
        path = self._auth_file
        if not path.exists():
            return {}
        import toml

        data = toml.loads(path.read_text())
        entry = data.get(_slugify_server(self.api_server), {})
        return {key: str(value) for key, value in entry.items() if value is not None}

    def save_auth_to_disk(self) -> None:
        """Store this client's API key and tenant id in the auth file, under its API server.

        Tables of other API servers in the file are kept.
        """
        import toml

        path = self._auth_file
        data = toml.loads(path.read_text()) if path.exists() else {}
        entry = {"api_key": self.api_key, "tenant_id": self._tenant_id}
        data[_slugify_server(self.api_server)] = {k: v for k, v in entry.items() if v}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(toml.dumps(data))

    @property
    def tenant_id(self) -> str:
        """The tenant this client acts in; looked up on first use when not configured.

        Raises:
            ClientError: no tenant could be determined.
        """
        if not self._tenant_id:
            if _config().backend == "server":
                self._tenant_id = self._get_default_server_tenant()
            elif self.api_key:
                self._tenant_id = self._get_auth_tenant()
        if not self._tenant_id:
            raise ClientError(
                "A tenant could not be determined: no tenant id is configured and there is no "
                "API key to look one up with. Log in with `prefect auth login --key <KEY>` or "
                "set `cloud.tenant_id`."
            )
        return self._tenant_id

    @tenant_id.setter
    def tenant_id(self, tenant_id: str) -> None:
        self._tenant_id = tenant_id

    def _get_default_server_tenant(self) -> str:
        result = self.graphql({"query": {"tenant": {"id"}}})
        tenants = (result.get("data") or {}).get("tenant")
        if tenants is None:
            raise ClientError(f"Unexpected answer from the server to a tenant query: {result}")
        if not tenants:
            raise ClientError(
                "Your Prefect Server instance has no tenants. Create a tenant with "
                "`prefect server create-tenant`"
            )
        return str(tenants[0].id)

    def _get_auth_tenant(self) -> str:
        # Prefect Cloud only: the tenant the API key belongs to.
        result = self.graphql({"query": {"auth_info": "tenant_id"}})
        tenant_id = result.data.auth_info.tenant_id
        if not tenant_id:
            raise AuthorizationError(
                "The API key is not scoped to a tenant; pass a tenant id or run "
                "`prefect auth switch-tenants`."
            )
        return str(tenant_id)

    def create_tenant(self, name: str, slug: str | None = None) -> str:
        """Create a tenant (Prefect Server only).

        Args:
            name: the tenant's name.
            slug: its URL slug (default: the name slugified).

        Returns:
            the new tenant's id.

        Raises:
            ValueError: the backend is not a Prefect Server.
        """
        if _config().backend != "server":
            raise ValueError(
                "Tenants can only be created on Prefect Server (`prefect backend server`); "
                "for Prefect Cloud, sign up at https://cloud.prefect.io/."
            )
        if slug is None:
            from slugify import slugify

            slug = slugify(name)
        result = self.graphql(
            {"mutation($input: create_tenant_input!)": {"create_tenant(input: $input)": {"id"}}},
            variables=dict(input=dict(name=name, slug=slug)),
        )
        return str(result.data.create_tenant.id)

    def switch_tenant(self, tenant_slug: str | None = None, tenant_id: str | None = None) -> str:
        """Act in another tenant, given by slug or id.

        Args:
            tenant_slug: the tenant's slug (looked up).
            tenant_id: the tenant's id.

        Returns:
            the id of the tenant now in use.

        Raises:
            ValueError: neither was given, or no tenant has the slug.
        """
        if tenant_slug:
            result = self.graphql(
                {"query($slug: String)": {"tenant(where: {slug: { _eq: $slug } })": {"id"}}},
                variables=dict(slug=tenant_slug),
            )
            if not result.data.tenant:
                raise ValueError(f"No tenant found with slug {tenant_slug!r}.")
            tenant_id = result.data.tenant[0].id
        if not tenant_id:
            raise ValueError("Pass a `tenant_slug` or a `tenant_id` to switch tenants.")
        self._tenant_id = str(tenant_id)
        return self._tenant_id

    def get_available_tenants(self) -> List[Dict]:
        """The tenants this client can see, ordered by slug.

        Returns:
            one ``{id, slug, name}`` mapping per tenant.
        """
        result = self.graphql(
            {
                "query": {
                    with_args("tenant", {"order_by": {"slug": EnumValue("asc")}}): {
                        "id": True,
                        "slug": True,
                        "name": True,
                    }
                }
            }
        )
        return list(result.data.tenant)

    def get_default_tenant_slug(self) -> str:
        """The slug of the tenant this client acts in (for UI links).

        Raises:
            ValueError: the backend does not list that tenant.
        """
        tenant_id = self.tenant_id
        result = self.graphql({"query": {"tenant": {"id", "slug"}}})
        for tenant in result.data.tenant:
            if tenant.id == tenant_id:
                return str(tenant.slug)
        raise ValueError(f"Tenant {tenant_id} is not among the tenants the API lists.")

    def get_cloud_url(self, subdirectory: str, id: str) -> str:
        """The UI address of an object: ``<ui>/<tenant slug>/<subdirectory>/<id>``.

        The UI is ``server.ui.endpoint`` for Prefect Server; for Cloud it is the API host with
        ``api`` replaced by ``cloud``.

        Args:
            subdirectory: the kind of page (``"flow"``, ``"flow-run"``, ...).
            id: the object's id.
        """
        config = _config()
        if config.backend == "server":
            base = str(config.server.ui.endpoint)
        else:
            api = str(config.cloud.api)
            base = api.replace("api-", "", 1) if "api-" in api else api.replace("api", "cloud", 1)
        slug = self.get_default_tenant_slug()
        return "/".join([base.rstrip("/"), slug, subdirectory, id])

    # --- transport ---------------------------------------------------------------------------

    def attach_headers(self, headers: dict) -> None:
        """Send these headers with every later request (e.g. ``X-PREFECT-AGENT-ID``).

        Args:
            headers: header names and values, merged into those already attached.
        """
        self._attached_headers.update(headers)

    def get(
        self,
        path: str,
        server: str | None = None,
        headers: dict | None = None,
        params: Dict[str, JSONLike] | None = None,
        api_key: str | None = None,
        retry_on_api_error: bool = True,
    ) -> dict:
        """Send a ``GET`` request.

        Args:
            path: the path, joined to the server URL.
            server: the server URL (default: the API server).
            headers: extra headers.
            params: query parameters.
            api_key: an API key for this request (default: the client's).
            retry_on_api_error: send again while the answer carries an ``API_ERROR``.

        Returns:
            the decoded JSON answer (``{}`` for an empty body).
        """
        response = self._request("GET", path, params, server, headers, api_key, retry_on_api_error)
        return response.json() if response.text else {}

    def post(
        self,
        path: str,
        server: str | None = None,
        headers: dict | None = None,
        params: Dict[str, JSONLike] | None = None,
        api_key: str | None = None,
        retry_on_api_error: bool = True,
    ) -> dict:
        """Send a ``POST`` request with a JSON body.

        Args:
            path: the path, joined to the server URL.
            server: the server URL (default: the API server).
            headers: extra headers.
            params: the JSON body.
            api_key: an API key for this request (default: the client's).
            retry_on_api_error: send again while the answer carries an ``API_ERROR``.

        Returns:
            the decoded JSON answer (``{}`` for an empty body).
        """
        response = self._request("POST", path, params, server, headers, api_key, retry_on_api_error)
        return response.json() if response.text else {}

    def graphql(
        self,
        query: Any,
        raise_on_error: bool = True,
        headers: Dict[str, str] | None = None,
        variables: Mapping[str, JSONLike] | None = None,
        api_key: str | None = None,
        retry_on_api_error: bool = True,
    ) -> GraphQLResult:
        """Send a GraphQL query or mutation.

        Args:
            query: the document, as text or as the nested data `parse_graphql` renders.
            raise_on_error: raise when the answer carries ``errors``.
            headers: extra headers.
            variables: the document's variables (sent JSON-encoded, as a string).
            api_key: an API key for this request (default: the client's).
            retry_on_api_error: send again while the answer carries an ``API_ERROR``.

        Returns:
            the whole answer (``result.data....``).

        Raises:
            AuthorizationError: the errors say the request was not authenticated.
            VersionLockMismatchSignal: the first error has code ``VERSION_LOCKING_ERROR``.
            ClientError: any other errors (its text is the error list).
        """
        result = self.post(
            path="",
            server=self.api_server,
            headers=headers,
            params=dict(query=parse_graphql(query), variables=json.dumps(variables)),
            api_key=api_key,
            retry_on_api_error=retry_on_api_error,
        )
        if raise_on_error and "errors" in result:
            errors = result["errors"]
            text = str(errors)
            if "UNAUTHENTICATED" in text or "Malformed Authorization header" in text:
                raise AuthorizationError(errors)
            first = errors[0] if isinstance(errors, list) and errors else {}
            if isinstance(first, Mapping):
                code = (first.get("extensions") or {}).get("code")
                if code == "VERSION_LOCKING_ERROR":
                    raise VersionLockMismatchSignal(errors)
            raise ClientError(errors)
        return GraphQLResult(result)

    def _headers(self, headers: Mapping[str, str] | None, api_key: str | None) -> dict[str, str]:
        sent = dict(headers or {})
        key = api_key or self.api_key
        if key:
            sent["Authorization"] = f"Bearer {key}"
            # The tenant header only means something to Cloud, which needs a key anyway.
            if self._tenant_id:
                sent["X-PREFECT-TENANT-ID"] = self._tenant_id
        sent["X-PREFECT-CORE-VERSION"] = str(prefect.__version__)
        sent.update(self._attached_headers)
        return sent

    def _request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        server: str | None,
        headers: Mapping[str, str] | None,
        api_key: str | None,
        retry_on_api_error: bool,
    ) -> requests.Response:
        from urllib.parse import urljoin

        from prefect.client import _http

        config = _config()
        url = urljoin(server or self.api_server, path.lstrip("/")).rstrip("/")
        sent_headers = self._headers(headers, api_key)
        if self._session is None:
            self._session = _http.make_session()
        timeout = config.cloud.get("request_timeout")
        rate_limiting = config.cloud.get("rate_limiting")
        if config.cloud.get("diagnostics"):
            shown = {
                k: ("<hidden>" if k == "Authorization" else v) for k, v in sent_headers.items()
            }
            self.logger.debug("%s %s headers=%s params=%s", method, url, shown, params)

        def send() -> requests.Response:
            assert self._session is not None
            return _http.send(
                self._session, method, url, params, sent_headers, timeout, rate_limiting
            )

        response = send()
        body = self._decode(response, config, sent_headers)
        attempt = 0
        while retry_on_api_error and attempt < API_ERROR_RETRIES and _has_api_error(body):
            attempt += 1
            time.sleep(API_ERROR_BACKOFF * 2 ** (attempt - 1))
            response = send()
            body = self._decode(response, config, sent_headers)
        return response

    @staticmethod
    def _decode(response: requests.Response, config: Any, headers: Mapping[str, str]) -> Any:
        if not response.text:
            return {}
        try:
            return response.json()
        except ValueError as exc:
            if config.backend == "cloud" and "Authorization" not in headers:
                raise AuthorizationError(
                    "Malformed response received from Cloud - please ensure that you are "
                    "authenticated. See `prefect auth login --help`."
                ) from exc
            raise ClientError("Malformed response received from API.") from exc


def _default_api_server(config: Any) -> str:
    api = config.cloud.get("api")
    if api:
        return str(api)
    if config.backend == "server":
        return str(config.server.endpoint)
    return str(config.cloud.endpoint)


def _has_api_error(body: Any) -> bool:
    return isinstance(body, Mapping) and "API_ERROR" in str(body.get("errors"))
