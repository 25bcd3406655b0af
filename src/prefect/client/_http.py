"""The client's HTTP layer: a `requests` session with the 1.x retry policy, and one function
that sends a request and turns transport failures into errors that say what went wrong.

The policy, as the 1.x client applies it (`server-protocol.md`, section 1.4):

- urllib3 retries (`Retry(total=6, backoff_factor=1)`) on refused connections and on HTTP 500,
  502, 503 and 504, for ``DELETE``, ``GET`` and ``POST``;
- HTTP 429: sleep ``cloud.rate_limiting.backoff_s`` plus a random part that grows with each
  attempt, then send again, at most ``cloud.rate_limiting.max_retries`` times;
- any other non-2xx answer raises `requests.HTTPError` (its text carries the server's message
  when the body has one), except a 400 to a GraphQL request, which raises `ClientError` listing
  the GraphQL errors, the query and its variables;
- a connection that cannot be made raises `requests.ConnectionError` naming the URL.

The backoff figures are module attributes so tests can shrink them.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from prefect.exceptions import ClientError

__all__ = ["make_session", "send"]

logger = logging.getLogger(__name__)

RETRY_TOTAL = 6
RETRY_STATUSES = (500, 502, 503, 504)
RETRY_METHODS = ("DELETE", "GET", "POST")
# urllib3 sleeps `backoff_factor * 2 ** (retry - 1)` seconds between retries.
RETRY_BACKOFF_FACTOR: float = 1.0


def make_session() -> requests.Session:
    """A session that retries refused connections and 5xx answers as the 1.x client does.

    Returns:
        the session, with the retrying adapter mounted for ``http://`` and ``https://``.
    """
    retries = Retry(
        total=RETRY_TOTAL,
        backoff_factor=RETRY_BACKOFF_FACTOR,
        status_forcelist=list(RETRY_STATUSES),
        allowed_methods=list(RETRY_METHODS),
        # After the last retry, hand back the answer itself: `send` raises an `HTTPError` with
        # the server's message instead of urllib3's bare "too many 500 error responses".
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retries)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def send(
    session: requests.Session,
    method: str,
    url: str,
    params: Mapping[str, Any] | None,
    headers: Mapping[str, str],
    timeout: float | None,
    rate_limiting: Mapping[str, Any] | None = None,
) -> requests.Response:
    """Send one request, waiting out HTTP 429 answers, and check the final status.

    Args:
        session: the session to send with (see `make_session`).
        method: ``"GET"``, ``"POST"`` or ``"DELETE"``.
        url: the full URL.
        params: query parameters for ``GET``/``DELETE``, the JSON body for ``POST``.
        headers: the request headers.
        timeout: seconds to wait for the server (``None``: no limit).
        rate_limiting: the ``cloud.rate_limiting`` config section (``backoff_s``,
            ``backoff_multiplier``, ``backoff_exponent``, ``max_retries``).

    Returns:
        the response, with a 2xx status.

    Raises:
        requests.ConnectionError: the server could not be reached (the text names the URL).
        requests.HTTPError: the server answered with an error status.
        ClientError: the server answered HTTP 400 to a GraphQL request.
    """
    settings = dict(rate_limiting or {})
    max_retries = int(settings.get("max_retries", 6))
    attempt = 0
    while True:
        response = _send_once(session, method, url, params, headers, timeout)
        if response.status_code != 429 or attempt >= max_retries:
            break
        attempt += 1
        delay = float(settings.get("backoff_s", 180)) + random.uniform(
            0,
            float(settings.get("backoff_multiplier", 10))
            * float(settings.get("backoff_exponent", 2)) ** attempt,
        )
        logger.warning(
            "Rate limit reached at %s; sending again in %.1f seconds (retry %d of %d).",
            url,
            delay,
            attempt,
            max_retries,
        )
        time.sleep(delay)
    _raise_for_status(response, params)
    return response


def _send_once(
    session: requests.Session,
    method: str,
    url: str,
    params: Mapping[str, Any] | None,
    headers: Mapping[str, str],
    timeout: float | None,
) -> requests.Response:
    try:
        if method == "POST":
            return session.post(url, headers=dict(headers), json=params, timeout=timeout)
        if method == "GET":
            return session.get(url, headers=dict(headers), params=params, timeout=timeout)
        if method == "DELETE":
            return session.delete(url, headers=dict(headers), params=params, timeout=timeout)
    except requests.ConnectionError as exc:
        # requests' own text names only the host and port, deep inside urllib3's wording.
        raise requests.ConnectionError(
            f"Could not connect to the Prefect API at {url} ({_reason(exc)}). Is the server "
            "running, and is `cloud.api` (or `server.endpoint`) set to its address?",
            request=exc.request,
            response=exc.response,
        ) from exc
    raise ValueError(f"Invalid method {method!r}: use 'GET', 'POST' or 'DELETE'.")


def _reason(exc: requests.ConnectionError) -> str:
    """The innermost cause of a connection failure (e.g. "Connection refused")."""
    cause: BaseException | None = exc
    text = str(exc)
    while cause is not None:
        reason = getattr(cause, "reason", None)
        if isinstance(reason, BaseException):
            cause = reason
            text = str(reason)
            continue
        if cause.args and isinstance(cause.args[0], BaseException):
            cause = cause.args[0]
            text = str(cause)
            continue
        break
    # urllib3 prefixes "<connection object at 0x...>: "; the rest is the OS's message.
    return text.split(">: ", 1)[-1]


def _raise_for_status(response: requests.Response, params: Mapping[str, Any] | None) -> None:
    try:
        response.raise_for_status()
    except requests.HTTPError as exc:
        if response.status_code == 400 and params and "query" in params:
            from prefect.utilities.graphql import format_graphql_request_error

            try:
                details = format_graphql_request_error(response)
            except Exception:
                details = (
                    "This is likely caused by a poorly formatted GraphQL query or mutation, but "
                    "the response could not be parsed for more details."
                )
            raise ClientError(f"{exc}\n{details}") from exc
        message = _body_message(response)
        if message:
            raise requests.HTTPError(f"{exc}: {message}", response=response) from exc
        raise


def _body_message(response: requests.Response) -> str:
    """The error text a server put in its answer: ``message``/``detail``/``error`` of a JSON
    body, the messages of a GraphQL ``errors`` list, or the start of a text body."""
    text = response.text or ""
    try:
        body = json.loads(text)
    except ValueError:
        return text.strip()[:500]
    if isinstance(body, Mapping):
        for key in ("message", "detail", "error"):
            if isinstance(body.get(key), str):
                return str(body[key])
        errors = body.get("errors")
        if isinstance(errors, list):
            return "; ".join(
                str(e.get("message", e)) if isinstance(e, Mapping) else str(e) for e in errors
            )
    return text.strip()[:500]
