"""Pieces of the table surface's SQL layer: interval text, LIKE on SQLite, and the jsonb operators
SQLite runs in Python, which must agree with PostgreSQL's `@>`, `<@` and `?` (the last test runs
the same containment cases on both databases)."""

from __future__ import annotations

import datetime
import json

import pytest
import sqlalchemy as sa
from graphql import GraphQLError
from tests.server.graphql._hasura_factories import query

from prefect.server.database import models
from prefect.server.graphql._hasura_sql import _like_to_glob, _sqlite_jsonb, parse_interval


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0:00:02", datetime.timedelta(seconds=2)),
        ("00:01:30.5", datetime.timedelta(minutes=1, seconds=30.5)),
        ("1 day, 2:00:00", datetime.timedelta(days=1, hours=2)),
        ("3 days 00:00:01", datetime.timedelta(days=3, seconds=1)),
        ("-1 day, 23:59:58", datetime.timedelta(seconds=-2)),
        ("-0:00:05", datetime.timedelta(seconds=-5)),
        (90, datetime.timedelta(seconds=90)),
        (1.5, datetime.timedelta(seconds=1.5)),
    ],
)
def test_interval_text_and_numbers_parse(text, expected):
    assert parse_interval(text) == expected


@pytest.mark.parametrize("bad", ["soon", "1:2:3:4", "", True, {"seconds": 1}, None])
def test_invalid_intervals_are_graphql_errors_naming_the_value(bad):
    with pytest.raises(GraphQLError, match="Invalid interval"):
        parse_interval(bad)


@pytest.mark.parametrize(
    ("like", "glob"),
    [
        ("abc", "abc"),
        ("a%", "a*"),
        ("a_c", "a?c"),
        (r"100\%", "100%"),
        (r"a\_b", "a_b"),
        ("x*y?[z]", "x[*]y[?][[]z]"),
        ("ends\\", "ends\\"),
    ],
)
def test_like_patterns_become_case_sensitive_globs(like, glob):
    assert _like_to_glob(like) == glob


def jsonb(op: str, document: object, operand: object) -> int | None:
    return _sqlite_jsonb(op, json.dumps(document), json.dumps(operand))


@pytest.mark.parametrize(
    ("document", "operand", "contains"),
    [
        ({"a": 1, "b": [1, 2]}, {"a": 1}, True),
        ({"a": 1, "b": [1, 2]}, {"b": [2]}, True),
        ({"a": 1, "b": [1, 2]}, {"b": [3]}, False),
        ({"a": {"b": {"c": True}}}, {"a": {"b": {}}}, True),
        ({"a": True}, {"a": 1}, False),
        ({"a": 1}, {"a": 1.0}, True),
        ([1, "x", [2]], ["x", 1], True),
        ([1, "x"], "x", True),
        ([[1]], [1], False),
        ({"a": ["x"]}, {"a": "x"}, False),
        ("x", "x", True),
        ({}, {}, True),
        ([], {}, False),
        (None, None, True),
    ],
)
def test_contains_matches_postgresql(document, operand, contains):
    assert jsonb("_contains", document, operand) == int(contains)
    assert jsonb("_contained_in", operand, document) == int(contains)


@pytest.mark.parametrize(
    ("document", "key", "found"),
    [
        ({"a": 1}, "a", True),
        ({"a": 1}, "b", False),
        (["a", 1], "a", True),
        ([["a"]], "a", False),
        ("a", "a", True),
        (1, "1", False),
    ],
)
def test_has_key_matches_postgresql(document, key, found):
    assert jsonb("_has_key", document, key) == int(found)


def test_other_jsonb_operators():
    assert jsonb("_has_keys_any", {"a": 1}, ["b", "a"]) == 1
    assert jsonb("_has_keys_all", {"a": 1}, ["b", "a"]) == 0
    assert jsonb("_eq", {"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}) == 1
    assert jsonb("_eq", {"a": 1}, {"a": True}) == 0
    assert jsonb("_neq", [1], [1, 2]) == 1
    # PostgreSQL's jsonb order: null < string < number < boolean < array < object.
    assert jsonb("_lt", "z", 1) == 1
    assert jsonb("_gt", True, 100) == 1
    assert jsonb("_gte", {"a": 1}, [1, 2, 3]) == 1
    assert jsonb("_lte", 2, 2) == 1
    assert _sqlite_jsonb("_contains", None, "{}") is None


CONTAINMENT = [
    ({"a": 1, "b": [1, 2]}, {"b": [2]}, True),
    ({"a": 1, "b": [1, 2]}, {"b": [3]}, False),
    ({"a": True}, {"a": 1}, False),
    ({"a": 1}, {"a": 1.0}, True),
    ([1, "x", [2]], ["x", 1], True),
    ([1, "x"], "x", True),
    ([[1]], [1], False),
    ({"a": ["x"]}, {"a": "x"}, False),
    ("x", "x", True),
    ([], {}, False),
]


async def test_sqlite_and_postgresql_agree_on_containment(db, tenant_id):
    ids = [models.new_id() for _case in CONTAINMENT]
    async with db.write() as conn:
        await conn.execute(
            sa.insert(models.flow_group),
            [
                {"id": row_id, "tenant_id": tenant_id, "settings": document}
                for row_id, (document, _operand, _expected) in zip(ids, CONTAINMENT)
            ],
        )
    for row_id, (document, operand, expected) in zip(ids, CONTAINMENT):
        data = await query(
            db,
            "query($v: jsonb) { flow_group(where: {settings: {_contains: $v}}) { id } }",
            {"v": operand},
        )
        found = row_id in {row["id"] for row in data["flow_group"]}
        assert found == expected, (db.dialect, document, operand)
