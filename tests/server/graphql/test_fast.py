"""The short path gives exactly what graphql-core's executor gives, or declines up front."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    execute,
    parse,
    validate,
)

from prefect.server.errors import ServerError
from prefect.server.graphql._fast import plan
from prefect.server.graphql.scalars import JSON, UUID

CALLS: list[dict[str, Any]] = []

item_input = GraphQLInputObjectType(
    "item_input",
    {
        "run_id": GraphQLInputField(GraphQLNonNull(UUID)),
        "version": GraphQLInputField(GraphQLInt),
        "state": GraphQLInputField(GraphQLNonNull(JSON)),
    },
)
items_input = GraphQLInputObjectType(
    "items_input",
    {"states": GraphQLInputField(GraphQLNonNull(GraphQLList(GraphQLNonNull(item_input))))},
)
status = GraphQLEnumType("status", {"SUCCESS": "SUCCESS", "QUEUED": "QUEUED"})
item = GraphQLObjectType(
    "item_payload",
    {
        "id": GraphQLField(UUID),
        "status": GraphQLField(status),
        "message": GraphQLField(GraphQLString),
        "count": GraphQLField(GraphQLNonNull(GraphQLInt)),
    },
)
payload = GraphQLObjectType("items_payload", {"states": GraphQLField(GraphQLList(item))})


async def _set_states(_root: Any, info: Any, input: dict[str, Any]) -> dict[str, Any]:
    CALLS.append(input)
    if input["states"] and input["states"][0]["state"] == "refuse":
        raise ServerError("State update failed for flow run ID x")
    return {
        "states": [
            {"id": s["run_id"], "status": "SUCCESS", "message": None, "count": s.get("version")}
            for s in input["states"]
        ]
    }


def _hello(_root: Any, info: Any, name: str = "x") -> str:
    return f"hi {name} {info.context['who']}"


schema = GraphQLSchema(
    query=GraphQLObjectType("Query", {"ok": GraphQLField(GraphQLString)}),
    mutation=GraphQLObjectType(
        "Mutation",
        {
            "set_states": GraphQLField(
                payload,
                args={"input": GraphQLArgument(GraphQLNonNull(items_input))},
                resolve=_set_states,
            ),
            "hello": GraphQLField(
                GraphQLString, args={"name": GraphQLArgument(GraphQLString)}, resolve=_hello
            ),
        },
    ),
)

WRITE = """mutation($input: items_input!) {
    set_states(input: $input) {
        states {
            id
            status
            message
        }
    }
}"""

RUN_ID = "6F1E0A7A-1111-4222-8333-944455556666"


async def _both(text: str, variables: dict[str, Any] | None) -> tuple[Any, Any]:
    document = parse(text)
    assert validate(schema, document) == []
    operation = plan(schema, document)
    assert operation is not None
    context = {"who": "me"}
    fast = await operation.run(context, variables)
    slow = execute(schema, document, variable_values=variables, context_value=context)
    if not isinstance(slow, type(fast)):
        slow = await slow  # type: ignore[misc]
    return fast, slow


def _formatted(result: Any) -> Any:
    return result.formatted if result is not None else None


async def test_state_write_document_gives_the_executors_result():
    variables = {
        "input": {"states": [{"run_id": RUN_ID, "version": None, "state": {"type": "Running"}}]}
    }
    fast, slow = await _both(WRITE, variables)
    assert fast.formatted == slow.formatted
    assert fast.formatted == {
        "data": {
            "set_states": {"states": [{"id": RUN_ID.lower(), "status": "SUCCESS", "message": None}]}
        }
    }


async def test_resolver_error_is_located_like_the_executors():
    variables = {"input": {"states": [{"run_id": RUN_ID, "state": "refuse"}]}}
    fast, slow = await _both(WRITE, variables)
    assert fast.formatted == slow.formatted
    assert fast.errors[0].original_error.__class__ is ServerError


async def test_inline_arguments_and_aliases_inside_the_payload():
    inline = '{states: [{run_id: "RUN", state: {type: "Success", n: [1, 2.5, null]}}]}'
    text = (
        "mutation {\n    set_states(input: "
        + inline.replace("RUN", RUN_ID)
        + ") {\n        states { the_id: id status }\n    }\n}"
    )
    fast, slow = await _both(text, None)
    assert fast.formatted == slow.formatted


async def test_scalar_root_field_with_a_default_argument():
    fast, slow = await _both("mutation { hello }", None)
    assert fast.formatted == slow.formatted == {"data": {"hello": "hi x me"}}


async def test_null_in_a_non_null_field_is_an_error():
    text = "mutation($input: items_input!) { set_states(input: $input) { states { count } } }"
    variables = {"input": {"states": [{"run_id": RUN_ID, "state": {}}]}}
    fast, _slow = await _both(text, variables)
    assert fast.data == {"set_states": None}
    assert "Cannot return null for non-nullable field" in fast.errors[0].message


async def test_variables_that_do_not_coerce_are_left_to_the_executor_before_anything_runs():
    CALLS.clear()
    operation = plan(schema, parse(WRITE))
    assert operation is not None
    bad = {"input": {"states": [{"run_id": "not-a-uuid", "state": {}}]}}
    assert await operation.run({}, bad) is None
    assert await operation.run({}, {}) is None
    assert CALLS == []


@pytest.mark.parametrize(
    "text",
    [
        "query { ok }",
        "mutation { a: hello }",
        "mutation { hello hello2: hello }",
        "mutation { hello @include(if: true) }",
        "mutation($input: items_input!) { set_states(input: $input) { ...F } } fragment F on items_payload { states { id } }",
        "mutation($input: items_input!) { set_states(input: $input) { __typename } }",
    ],
)
def test_documents_outside_the_plan_are_declined(text):
    document = parse(text)
    assert plan(schema, document) is None


async def test_direct_coercion_gives_graphql_cores_values():
    from graphql.execution.values import get_variable_values

    operation = plan(schema, parse(WRITE))
    assert operation is not None and operation.direct is not None
    for variables in [
        {"input": {"states": [{"run_id": RUN_ID, "version": 3, "state": {"type": "Running"}}]}},
        # One object where the list is expected: a one-item list.
        {"input": {"states": {"run_id": RUN_ID, "state": [1, {"a": None}]}}},
        {"input": {"states": []}},
    ]:
        direct = operation._direct_arguments(variables)
        assert direct is not None
        expected = get_variable_values(schema, operation.operation.variable_definitions, variables)
        assert direct[0].coerced == expected.coerced
        assert direct[1] == {"input": expected.coerced["input"]}


@pytest.mark.parametrize(
    "variables",
    [
        {"input": {"states": [{"run_id": RUN_ID, "state": {}, "unknown": 1}]}},
        {"input": {"states": [{"run_id": RUN_ID}]}},
        {"input": {"states": [{"run_id": RUN_ID, "state": {}, "version": "3"}]}},
        {"input": None},
        {},
        {"input": {"states": []}, "extra": 1},
    ],
)
def test_direct_coercion_leaves_anything_unusual_to_graphql_core(variables):
    operation = plan(schema, parse(WRITE))
    assert operation is not None
    assert operation._direct_arguments(variables) is None
