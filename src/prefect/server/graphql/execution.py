"""Running one GraphQL request body against the schema: the server's hot path.

The 1.x client sends the same few document texts thousands of times per flow run, so parsed and
validated documents are cached by their text; a request then costs a JSON decode, variable
coercion, the resolvers and a JSON encode.

Answers follow what Apollo, the real server's gateway, sent (protocol §1.4, §1.5):

* a body that is not JSON, or has no query: HTTP 400 with one error naming the problem;
* a syntax error: HTTP 400, `extensions.code` `GRAPHQL_PARSE_FAILED`;
* a document the schema refuses, or variables that do not fit it: HTTP 400,
  `GRAPHQL_VALIDATION_FAILED`;
* anything a resolver raises: HTTP 200, the field `null` in `data`, and an error whose message is
  the exception's text and whose code is `ServerError.code` or `INTERNAL_SERVER_ERROR`.

Never a 5xx (the client retries those for a minute) and never a 429.
"""

from __future__ import annotations

import json
import logging
import re
from collections import OrderedDict
from inspect import isawaitable
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FloatValueNode,
    GraphQLError,
    GraphQLSchema,
    IntValueNode,
    Node,
    StringValueNode,
    execute,
    parse,
    validate,
)

from prefect.server.errors import ServerError
from prefect.server.graphql._fast import FastOperation, plan

__all__ = ["DocumentCache", "GraphQLResponse", "execute_body", "internal_error_message"]

logger = logging.getLogger(__name__)

GraphQLResponse = tuple[int, dict[str, Any]]

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_REQUEST = "BAD_REQUEST"
INTERNAL_ERROR = "INTERNAL_SERVER_ERROR"


class _RequestError(Exception):
    """A request refused before execution: HTTP 400 with these errors."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["message"] if errors else "")
        self.errors = errors


def _error(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code}}


# String and number literals, for the shape of a document (`_shape`).
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_FLOAT = re.compile(r"(?<![\w.$])-?\d+(?:\.\d+(?:[eE][+-]?\d+)?|[eE][+-]?\d+)(?![\w.])")
_INT = re.compile(r"(?<![\w.$])-?\d+(?![\w.])")


# The same three kinds in one pass, in text order (a string is consumed whole first).
_LITERAL = re.compile(f"(?P<s>{_STRING.pattern})|(?P<f>{_FLOAT.pattern})|(?P<i>{_INT.pattern})")
_LITERAL_KINDS = {"s": StringValueNode, "f": FloatValueNode, "i": IntValueNode}


def _literal_nodes(document: DocumentNode) -> list[Node]:
    """The string, float and int value nodes of a document, in the order of its text."""
    found: list[Node] = []

    def walk(node: Any) -> None:
        if isinstance(node, (StringValueNode, FloatValueNode, IntValueNode)):
            found.append(node)
            return
        for key in node.keys:
            if key == "loc":
                continue
            value = getattr(node, key, None)
            if isinstance(value, Node):
                walk(value)
            elif isinstance(value, (tuple, list)):
                for item in value:
                    if isinstance(item, Node):
                        walk(item)

    walk(document)
    return found


class _Template:
    """A parsed document whose literal values are replaced per request (`DocumentCache`)."""

    __slots__ = ("document", "fast", "nodes")

    def __init__(self, document: DocumentNode, fast: FastOperation, nodes: list[Node]) -> None:
        self.document = document
        self.fast = fast
        self.nodes = nodes

    def fill(self, query: str) -> bool:
        """Put the literals of `query` (a text of this shape) into the document's nodes."""
        values: list[tuple[Node, str]] = []
        nodes = self.nodes
        index = 0
        for match in _LITERAL.finditer(query):
            if index >= len(nodes):
                return False
            node = nodes[index]
            kind = match.lastgroup
            if kind is None or not isinstance(node, _LITERAL_KINDS[kind]):
                return False
            text = match.group()
            if kind == "s":
                try:
                    text = json.loads(text)
                except ValueError:
                    return False
            values.append((node, text))
            index += 1
        if index != len(nodes):
            return False
        for node, text in values:
            # graphql-core's nodes are frozen dataclasses; this document is private to us.
            object.__setattr__(node, "value", text)
        return True


def _shape(query: str) -> str | None:
    """The document with every string literal replaced by `""`, every float by `0.0` and every
    integer by `0`; None when it has no literals (or block strings or comments, which the
    simple scan would misread).

    Documents of one shape validate alike except for the values of custom scalars (a bad uuid
    in a literal), which execution then refuses with an error naming the argument.
    """
    if '"""' in query or "#" in query:
        return None
    shape = _INT.sub("0", _FLOAT.sub("0.0", _STRING.sub('""', query)))
    return None if shape == query else shape


class DocumentCache:
    """Parsed and validated documents by their text, least recently used dropped first.

    Each document is kept with its short-path plan (`_fast.plan`), or None when graphql-core's
    executor must run it. Documents that carry their arguments inline (`flow_run_by_pk(id:
    "...")`, `get_or_create_task_run_info(input: {...})`) differ in every request; validating
    each costs milliseconds against this schema, so a document whose shape (`_shape`) has
    validated before is only parsed.

    Args:
        schema: the schema documents are validated against.
        size: how many documents to keep.
    """

    def __init__(self, schema: GraphQLSchema, size: int = 512) -> None:
        self.schema = schema
        self.size = size
        self._entries: OrderedDict[str, tuple[DocumentNode, FastOperation | None]] = OrderedDict()
        self._valid_shapes: OrderedDict[str, None] = OrderedDict()
        self._templates: OrderedDict[str, _Template | None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, query: str) -> DocumentNode:
        """The document of `query`, parsed and validated.

        Raises:
            _RequestError: the text does not parse, or the schema refuses it.
        """
        return self.entry(query)[0]

    def fast_entry(self, query: str) -> FastOperation | None:
        """The short-path plan of a document with inline literals, filled with this text's values.

        A document of a shape seen before (`_shape`) that runs on the short path is not parsed
        again: its template's literal nodes take this text's values, which the plan's argument
        coercion reads before anything else can run on the event loop. None when there is no
        template for the shape (use `entry`), and the caller must then use `entry` for the
        executor too, since the template's document is shared.
        """
        shape = _shape(query)
        if shape is None:
            return None
        template = self._templates.get(shape)
        if template is None or not template.fill(query):
            return None
        self._templates.move_to_end(shape)
        return template.fast

    def entry(self, query: str) -> tuple[DocumentNode, FastOperation | None]:
        """The document of `query` with its short-path plan.

        Raises:
            _RequestError: the text does not parse, or the schema refuses it.
        """
        entry = self._entries.get(query)
        if entry is not None:
            self._entries.move_to_end(query)
            return entry
        try:
            document = parse(query)
        except GraphQLError as error:
            raise _RequestError([_formatted(error, PARSE_FAILED)]) from None
        shape = _shape(query)
        if shape is not None and shape in self._valid_shapes:
            self._valid_shapes.move_to_end(shape)
        else:
            errors = validate(self.schema, document)
            if errors:
                raise _RequestError([_formatted(error, VALIDATION_FAILED) for error in errors])
            if shape is not None:
                self._valid_shapes[shape] = None
                if len(self._valid_shapes) > self.size:
                    self._valid_shapes.popitem(last=False)
        entry = (document, plan(self.schema, document))
        if shape is not None and shape not in self._templates:
            template = None
            if entry[1] is not None:
                # A template owns its own parse of the document: its nodes are overwritten.
                template_document = parse(query)
                template_plan = plan(self.schema, template_document)
                if template_plan is not None:
                    template = _Template(
                        template_document, template_plan, _literal_nodes(template_document)
                    )
            self._templates[shape] = template
            if len(self._templates) > self.size:
                self._templates.popitem(last=False)
        self._entries[query] = entry
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return entry


def _formatted(error: GraphQLError, code: str) -> dict[str, Any]:
    formatted: dict[str, Any] = {"message": error.message}
    if error.locations:
        formatted["locations"] = [
            {"line": location.line, "column": location.column} for location in error.locations
        ]
    if error.path:
        formatted["path"] = list(error.path)
    formatted["extensions"] = {**(error.extensions or {}), "code": code}
    return formatted


def _parse_body(body: bytes) -> tuple[str, dict[str, Any] | None, str | None]:
    """Query text, variables and operation name of a request body."""
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise _RequestError(
            [_error(f"The request body is not valid JSON ({exc}).", BAD_REQUEST)]
        ) from None
    if not isinstance(payload, dict):
        raise _RequestError(
            [
                _error(
                    'The request body must be a JSON object {"query": ..., "variables": ...}.',
                    BAD_REQUEST,
                )
            ]
        )
    query = payload.get("query")
    if not isinstance(query, str) or not query.strip():
        raise _RequestError(
            [
                _error(
                    'The request body has no "query": send {"query": "<GraphQL document>"}.',
                    BAD_REQUEST,
                )
            ]
        )
    variables = payload.get("variables")
    # The 1.x client sends the variables JSON-encoded a second time (protocol §1.2).
    if isinstance(variables, str):
        try:
            variables = json.loads(variables) if variables.strip() else None
        except ValueError as exc:
            raise _RequestError(
                [_error(f'"variables" is a string but not valid JSON ({exc}).', BAD_REQUEST)]
            ) from None
    if variables is not None and not isinstance(variables, dict):
        raise _RequestError(
            [
                _error(
                    '"variables" must be a JSON object (or JSON text of one), or null.', BAD_REQUEST
                )
            ]
        )
    operation_name = payload.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise _RequestError([_error('"operationName" must be a string.', BAD_REQUEST)])
    return query, variables, operation_name


def internal_error_message(exc: BaseException) -> str:
    """What the client is told about a bug of ours: the exception's type and first line.

    Only the first line: database errors go on with the SQL statement and its parameters, which
    may hold whole state payloads.
    """
    lines = str(exc).strip().splitlines()
    summary = lines[0][:500] if lines else ""
    if summary:
        return f"Internal server error: {type(exc).__name__}: {summary}"
    return f"Internal server error: {type(exc).__name__}"


def _execution_error(error: GraphQLError) -> dict[str, Any]:
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        code = INTERNAL_ERROR
        message = error.message
    elif isinstance(original, ServerError):
        code = original.code or INTERNAL_ERROR
        message = error.message
    else:
        # Our own bug: keep the traceback in the server log, give the client the failure's name.
        logger.error(
            "Unexpected error resolving %s",
            ".".join(str(key) for key in error.path or ()),
            exc_info=original,
        )
        code = INTERNAL_ERROR
        message = internal_error_message(original)
    formatted = _formatted(error, code)
    formatted["message"] = message
    return formatted


async def execute_body(
    schema: GraphQLSchema, cache: DocumentCache, body: bytes, context: dict[str, Any]
) -> GraphQLResponse:
    """Run one request body; the HTTP status and the JSON answer.

    Args:
        schema: the schema to run against.
        cache: parsed documents of this schema.
        body: the raw request body.
        context: the resolvers' `info.context`.

    Returns:
        `(status, payload)`: 400 for requests refused before execution, else 200.
    """
    try:
        query, variables, operation_name = _parse_body(body)
    except _RequestError as refused:
        return 400, {"errors": refused.errors}
    result: Any = None
    if operation_name is None and query not in cache._entries:
        templated = cache.fast_entry(query)
        if templated is not None:
            # Runs synchronously up to the resolver: the template's values stay this request's.
            result = await templated.run(context, variables)
    if result is None:
        try:
            document, fast = cache.entry(query)
        except _RequestError as refused:
            return 400, {"errors": refused.errors}
        if fast is not None and operation_name is None:
            result = await fast.run(context, variables)
    if result is None:
        result = execute(
            schema,
            document,
            context_value=context,
            variable_values=variables,
            operation_name=operation_name,
        )
        if isawaitable(result):
            result = await result
    assert isinstance(result, ExecutionResult)
    if not result.errors:
        return 200, {"data": result.data}
    if result.data is None and all(not error.path for error in result.errors):
        # Variables that do not fit their declared types: refused before any resolver ran.
        return 400, {"errors": [_formatted(error, VALIDATION_FAILED) for error in result.errors]}
    return 200, {
        "data": result.data,
        "errors": [_execution_error(error) for error in result.errors],
    }
