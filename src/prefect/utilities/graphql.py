"""Build GraphQL documents from Python data, and small helpers for GraphQL traffic.

The client writes its queries as nested Python data and renders them here:

- a ``dict`` maps field names to what to select below them: ``True`` selects the field
  itself, a ``dict``/``list``/``set``/``tuple``/``str`` opens a selection set; ``False`` and
  ``None`` leave the field out;
- a ``list``/``tuple``/``set`` is a sequence of selections;
- a key may carry arguments: ``with_args("flow", {"where": {"id": {"_eq": flow_id}}})``.

Arguments are written as GraphQL literals: strings JSON-quoted, ``True``/``False``/``None`` as
``true``/``false``/``null``, lists as ``[a, b]``, dicts as input objects ``{ k: v }`` (``{}``
when empty), and :class:`EnumValue` bare (``asc``). For example::

    >>> print(parse_graphql({"query": {with_args("flow", {"where": {"id": {"_eq": "x"}}}): {"id"}}}))
    query {
        flow(where: { id: { _eq: "x" } }) {
            id
        }
    }
"""

from __future__ import annotations

import base64
import datetime
import gzip
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from box import Box

if TYPE_CHECKING:
    import requests

# Four spaces per level: the layout the 1.x client sends (server-protocol.md, section 2.5).
_INDENT = 4


class GraphQLResult(Box):
    """The ``data`` of a GraphQL response, readable by attribute (``result.data.flow[0].id``)."""

    def __repr__(self) -> str:
        return json.dumps(self.to_dict(), indent=4, default=str)


class EnumValue:
    """A GraphQL enum literal: rendered bare in arguments (``order_by: { name: asc }``).

    Args:
        value: the enum value's name.
    """

    def __init__(self, value: str) -> None:
        self.value = value

    def __eq__(self, other: Any) -> Any:
        if isinstance(other, EnumValue):
            return self.value == other.value
        return NotImplemented

    def __hash__(self) -> int:
        return hash((EnumValue, self.value))

    def __repr__(self) -> str:
        return f"EnumValue({self.value!r})"

    def __str__(self) -> str:
        return self.value


class GQLObject:
    """A named GraphQL field, usable as a key when building documents.

    Subclasses may declare their sub-fields as class attributes; the default name is the class
    name with its first letter lower-cased. Calling the object attaches arguments::

        class Flow(GQLObject):
            id = "id"

        flow = Flow()
        parse_graphql({"query": {flow({"limit": 1}): {flow.id}}})

    Args:
        name: the field name (defaults to the class name with a lower-case first letter).
        _arguments: already rendered arguments (or a mapping, rendered with
            :func:`parse_graphql_arguments`).
    """

    def __init__(self, name: str | None = None, _arguments: Any = None) -> None:
        self.__name = name or lowercase_first_letter(type(self).__name__)
        self.__arguments = _arguments

    def __call__(self, arguments: Any) -> GQLObject:
        """A copy of this field with ``arguments`` attached.

        Args:
            arguments: a mapping of arguments, or their already rendered text.

        Returns:
            a new object of the same class and name.
        """
        return type(self)(name=self.__name, _arguments=arguments)

    def __str__(self) -> str:
        if self.__arguments:
            return with_args(self.__name, self.__arguments)
        return self.__name

    def __repr__(self) -> str:
        return f"<GQLObject: {self}>"


def lowercase_first_letter(s: str) -> str:
    """``s`` with its first character lower-cased (``"FlowRun"`` -> ``"flowRun"``).

    Args:
        s: any string (the empty string is returned unchanged).

    Returns:
        the converted string.
    """
    return s[:1].lower() + s[1:]


def multiline_indent(string: str, spaces: int) -> str:
    """Indent every line of ``string`` by ``spaces`` spaces.

    Args:
        string: the text, possibly spanning several lines.
        spaces: how many spaces to put in front of each line.

    Returns:
        the indented text.
    """
    prefix = " " * spaces
    return "\n".join(prefix + line for line in string.split("\n"))


def LiteralSetValue(value: list) -> str:
    """A PostgreSQL array literal (``"{a, b}"``), which Hasura accepts for array columns.

    Passed as an argument value it is JSON-quoted like any other string.

    Args:
        value: the items of the set.

    Returns:
        the literal text.
    """
    return "{" + ", ".join(str(item) for item in value) + "}"


def parse_graphql(document: Any) -> str:
    """Render a GraphQL document from nested Python data.

    Args:
        document: a ``dict`` (field -> selection), a ``list``/``tuple``/``set`` of selections,
            a ``str`` or a :class:`GQLObject`; see the module docstring for the rules.

    Returns:
        the document text, indented four spaces per level, dedented and stripped as a whole.

    Raises:
        TypeError: if a selection is of a type that has no GraphQL meaning.
    """
    import textwrap

    return textwrap.dedent("\n".join(_selection_lines(document, 0))).strip()


def _selection_lines(selection: Any, depth: int) -> list[str]:
    pad = " " * (_INDENT * depth)
    if isinstance(selection, (str, GQLObject)):
        return [multiline_indent(str(selection), _INDENT * depth)]
    if isinstance(selection, Mapping):
        lines: list[str] = []
        for key, value in selection.items():
            if value is None or value is False:
                continue
            if value is True:
                lines.append(pad + str(key))
            else:
                lines.append(f"{pad}{key} {{")
                lines.extend(_selection_lines(value, depth + 1))
                lines.append(pad + "}")
        return lines
    if isinstance(selection, (set, frozenset)):
        # Sets have no order; sort them so the same document always renders the same text.
        selection = sorted(selection, key=str)
    if isinstance(selection, (list, tuple)):
        lines = []
        for item in selection:
            lines.extend(_selection_lines(item, depth))
        return lines
    raise TypeError(
        f"Cannot build a GraphQL selection from {selection!r} ({type(selection).__name__}); "
        "use a dict, list, set, tuple, str or GQLObject."
    )


def parse_graphql_arguments(arguments: Any) -> str:
    """Render field arguments: a mapping becomes ``name: value`` pairs joined by ``", "``.

    Values are GraphQL literals (see the module docstring); a string ``arguments`` is taken as
    already rendered.

    Args:
        arguments: a mapping of argument names to values, or rendered text.

    Returns:
        the text that goes between the field's parentheses.
    """
    if isinstance(arguments, str):
        return arguments
    if isinstance(arguments, Mapping):
        return ", ".join(f"{key}: {_literal(value)}" for key, value in arguments.items())
    return _literal(arguments)


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, EnumValue):
        return value.value
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        pairs = ", ".join(f"{key}: {_literal(item)}" for key, item in value.items())
        return "{ " + pairs + " }"
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return json.dumps(value.isoformat())
    if isinstance(value, uuid.UUID):
        return json.dumps(str(value))
    if isinstance(value, Iterable):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    # Anything else (a Decimal, a pendulum Duration, ...) travels as its text.
    return json.dumps(str(value))


def with_args(field: Any, arguments: Any) -> str:
    """A field with arguments, for use as a key: ``with_args("flow", {"limit": 1})``.

    Args:
        field: the field name (or a :class:`GQLObject`).
        arguments: a mapping of arguments, or their rendered text.

    Returns:
        ``"field(arguments)"``, or just ``"field"`` when there are no arguments (GraphQL does
        not allow empty parentheses).
    """
    rendered = parse_graphql_arguments(arguments)
    if not rendered:
        return str(field)
    return f"{field}({rendered})"


def format_graphql_request_error(response: requests.Response) -> str:
    """Explain a failed GraphQL request: the server's messages, the query and its variables.

    Args:
        response: the HTTP response to a GraphQL request (usually a 400).

    Returns:
        a multi-line, human-readable description.
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    messages: list[str] = []
    if isinstance(body, Mapping):
        for error in body.get("errors") or []:
            if isinstance(error, Mapping) and "message" in error:
                extensions = error.get("extensions")
                code = extensions.get("code") if isinstance(extensions, Mapping) else None
                messages.append(f"{code or 'UNKNOWN_ERROR'}: {error['message']}")
            else:
                messages.append(str(error))
    if not messages:
        messages.append(response.text or f"HTTP {response.status_code}")

    query: Any = None
    variables: Any = None
    request = getattr(response, "request", None)
    raw = getattr(request, "body", None)
    if raw:
        try:
            sent = json.loads(raw)
        except (TypeError, ValueError):
            sent = None
        if isinstance(sent, Mapping):
            query = sent.get("query")
            variables = sent.get("variables")
            if isinstance(variables, str):
                try:
                    variables = json.loads(variables)
                except ValueError:
                    pass

    parts = [
        "The following error messages were provided by the GraphQL server:",
        multiline_indent("\n".join(messages), 4),
        "The GraphQL query was:",
        multiline_indent(str(query) if query is not None else "<unavailable>", 4),
        "The passed variables were:",
        multiline_indent(
            json.dumps(variables, indent=2, default=str) if variables is not None else "null", 4
        ),
    ]
    return "\n\n".join(parts) + "\n"


def compress(input: Any) -> str:
    """Pack a JSON-compatible value as text: base64 of the gzip of its JSON.

    This is the form ``create_flow_from_compressed_string`` expects for ``serialized_flow``.

    Args:
        input: any JSON-compatible value.

    Returns:
        the base64 text.
    """
    # mtime=0 keeps the output a pure function of the input.
    packed = gzip.compress(json.dumps(input).encode("utf-8"), mtime=0)
    return base64.b64encode(packed).decode("ascii")


def decompress(string: str) -> Any:
    """Unpack text made by :func:`compress`.

    Args:
        string: base64 text of gzipped JSON.

    Returns:
        the decoded JSON value.
    """
    return json.loads(gzip.decompress(base64.b64decode(string)).decode("utf-8"))
