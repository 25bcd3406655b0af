from __future__ import annotations

import datetime
import json
import textwrap
import uuid
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prefect.utilities.graphql import (
    EnumValue,
    GQLObject,
    GraphQLResult,
    LiteralSetValue,
    compress,
    decompress,
    format_graphql_request_error,
    lowercase_first_letter,
    multiline_indent,
    parse_graphql,
    parse_graphql_arguments,
    with_args,
)


def dedent(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


class TestParseGraphql:
    def test_true_values_become_bare_fields_and_dicts_become_selection_sets(self):
        document = {"query": {"flow": {"id": True, "name": True}}}
        assert parse_graphql(document) == dedent(
            """
            query {
                flow {
                    id
                    name
                }
            }
            """
        )

    def test_field_with_arguments_renders_nested_input_objects(self):
        document = {"query": {with_args("flow", {"where": {"id": {"_eq": "x"}}}): {"id": True}}}
        assert parse_graphql(document) == dedent(
            """
            query {
                flow(where: { id: { _eq: "x" } }) {
                    id
                }
            }
            """
        )

    def test_mutation_with_variables_and_nested_selections(self):
        document = {
            "mutation($input: write_run_logs_input!)": {
                "write_run_logs(input: $input)": {"success"}
            }
        }
        assert parse_graphql(document) == dedent(
            """
            mutation($input: write_run_logs_input!) {
                write_run_logs(input: $input) {
                    success
                }
            }
            """
        )

    def test_sets_are_rendered_sorted_and_lists_in_order(self):
        assert parse_graphql({"q": {"b", "c", "a"}}) == "q {\n    a\n    b\n    c\n}"
        assert parse_graphql({"q": ["b", "a", {"c": {"d"}}]}) == dedent(
            """
            q {
                b
                a
                c {
                    d
                }
            }
            """
        )

    def test_false_and_none_values_leave_the_field_out(self):
        assert parse_graphql({"q": {"a": True, "b": False, "c": None}}) == "q {\n    a\n}"

    def test_string_document_is_returned_as_is(self):
        assert parse_graphql("query { hello }") == "query { hello }"

    def test_multiline_string_selection_is_indented_to_its_depth(self):
        assert parse_graphql({"q": "a {\n    b\n}"}) == "q {\n    a {\n        b\n    }\n}"

    def test_unsupported_selection_type_raises_type_error(self):
        with pytest.raises(TypeError, match="Cannot build a GraphQL selection from 3"):
            parse_graphql({"q": 3})


class TestArguments:
    def test_scalars_are_json_literals(self):
        rendered = parse_graphql_arguments(
            {"s": 'a "quoted"\nline', "i": 3, "f": 1.5, "t": True, "n": None, "b": False}
        )
        assert rendered == 's: "a \\"quoted\\"\\nline", i: 3, f: 1.5, t: true, n: null, b: false'

    def test_enum_values_are_bare_and_lists_are_bracketed(self):
        rendered = parse_graphql_arguments(
            {"order_by": {"timestamp": EnumValue("asc")}, "ids": ["a", 1], "empty": {}}
        )
        assert rendered == 'order_by: { timestamp: asc }, ids: ["a", 1], empty: {}'

    def test_uuids_and_datetimes_are_quoted_text(self):
        uid = uuid.UUID(int=1)
        moment = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
        rendered = parse_graphql_arguments({"id": uid, "t": moment})
        assert rendered == f'id: "{uid}", t: "2024-01-02T03:04:05+00:00"'

    def test_string_arguments_are_taken_as_rendered(self):
        assert parse_graphql_arguments("input: $input") == "input: $input"
        assert with_args("f", "input: $input") == "f(input: $input)"

    def test_with_args_without_arguments_gives_the_bare_field(self):
        assert with_args("flow", {}) == "flow"

    def test_literal_set_value_is_a_postgres_array_literal_sent_as_a_string(self):
        assert LiteralSetValue(["a", "b"]) == "{a, b}"
        assert with_args("f", {"labels": LiteralSetValue(["x"])}) == 'f(labels: "{x}")'

    @settings(deadline=None, max_examples=50)
    @given(st.text())
    def test_any_string_argument_round_trips_through_json(self, value: str):
        rendered = parse_graphql_arguments({"v": value})
        assert json.loads(rendered[len("v: ") :]) == value


class TestSmallHelpers:
    def test_lowercase_first_letter(self):
        assert lowercase_first_letter("FlowRun") == "flowRun"
        assert lowercase_first_letter("") == ""

    def test_multiline_indent_indents_every_line(self):
        assert multiline_indent("a\nb", 2) == "  a\n  b"

    def test_enum_value_equality_is_by_value(self):
        assert EnumValue("asc") == EnumValue("asc")
        assert EnumValue("asc") != EnumValue("desc")
        assert EnumValue("asc") != "asc"
        assert len({EnumValue("asc"), EnumValue("asc")}) == 1

    def test_graphql_result_gives_attribute_access(self):
        result = GraphQLResult({"data": {"flow": [{"id": "1"}]}})
        assert result.data.flow[0].id == "1"


class TestGQLObject:
    def test_default_name_is_the_class_name_with_lowercase_first_letter(self):
        class FlowRun(GQLObject):
            pass

        assert str(FlowRun()) == "flowRun"

    def test_calling_attaches_arguments_without_changing_the_original(self):
        flow = GQLObject("flow")
        limited = flow({"limit": 1})
        assert str(limited) == "flow(limit: 1)"
        assert str(flow) == "flow"
        assert parse_graphql({"query": {limited: {"id"}}}) == dedent(
            """
            query {
                flow(limit: 1) {
                    id
                }
            }
            """
        )


class TestCompression:
    def test_compressed_form_is_base64_of_gzipped_json(self):
        import base64
        import gzip

        payload = {"a": [1, 2, {"b": None}]}
        assert json.loads(gzip.decompress(base64.b64decode(compress(payload)))) == payload

    def test_compress_is_deterministic(self):
        assert compress({"x": 1}) == compress({"x": 1})

    @settings(deadline=None, max_examples=50)
    @given(
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(),
            lambda children: st.lists(children) | st.dictionaries(st.text(), children),
            max_leaves=20,
        )
    )
    def test_decompress_inverts_compress(self, value):
        assert decompress(compress(value)) == value


def fake_response(body: object, request_body: object, status: int = 400) -> SimpleNamespace:
    def json_method():
        if isinstance(body, str):
            raise ValueError("not json")
        return body

    return SimpleNamespace(
        json=json_method,
        text=body if isinstance(body, str) else json.dumps(body),
        status_code=status,
        request=SimpleNamespace(body=request_body),
    )


class TestFormatGraphqlRequestError:
    def test_lists_server_messages_query_and_variables(self):
        request = json.dumps({"query": "query { nope }", "variables": json.dumps({"x": 1})})
        response = fake_response(
            {
                "errors": [
                    {
                        "message": "Cannot query field 'nope'",
                        "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
                    },
                    {"message": "second"},
                ]
            },
            request.encode(),
        )
        text = format_graphql_request_error(response)
        assert text == (
            "The following error messages were provided by the GraphQL server:\n\n"
            "    GRAPHQL_VALIDATION_FAILED: Cannot query field 'nope'\n"
            "    UNKNOWN_ERROR: second\n\n"
            "The GraphQL query was:\n\n"
            "    query { nope }\n\n"
            "The passed variables were:\n\n"
            "    {\n"
            '      "x": 1\n'
            "    }\n"
        )

    def test_non_json_response_falls_back_to_the_response_text(self):
        text = format_graphql_request_error(fake_response("Bad Gateway", None, status=502))
        assert "    Bad Gateway" in text
        assert "    <unavailable>" in text
