from __future__ import annotations

import datetime
import json
import subprocess
import sys
import textwrap
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import prefect
from prefect.utilities import graphql
from prefect.utilities.serialization import from_qualified_name, to_qualified_name


class Outer:
    class Inner:
        def method(self) -> None:
            pass


def module_function() -> None:
    pass


class TestQualifiedNames:
    def test_to_qualified_name_joins_module_and_qualname(self):
        assert to_qualified_name(module_function) == f"{__name__}.module_function"
        assert to_qualified_name(Outer.Inner) == f"{__name__}.Outer.Inner"
        assert to_qualified_name(graphql.GQLObject) == "prefect.utilities.graphql.GQLObject"

    @pytest.mark.parametrize(
        "obj",
        [
            module_function,
            Outer,
            Outer.Inner,
            Outer.Inner.method,
            graphql.parse_graphql,
            json.dumps,
        ],
    )
    def test_from_qualified_name_inverts_to_qualified_name(self, obj):
        assert from_qualified_name(to_qualified_name(obj)) is obj

    def test_a_module_name_resolves_to_the_module(self):
        assert from_qualified_name("prefect.utilities.graphql") is graphql

    def test_missing_attribute_raises_value_error_naming_the_name(self):
        with pytest.raises(
            ValueError, match=r"'prefect\.utilities\.graphql\.Nope'.*no attribute 'Nope'"
        ):
            from_qualified_name("prefect.utilities.graphql.Nope")

    def test_unimportable_name_raises_value_error_naming_the_name(self):
        with pytest.raises(ValueError, match="'no_such_module_xyz.thing'"):
            from_qualified_name("no_such_module_xyz.thing")

    @pytest.mark.parametrize("name", ["", "a..b", ".a", "a."])
    def test_malformed_names_raise_value_error(self, name):
        with pytest.raises(ValueError, match="Invalid qualified name"):
            from_qualified_name(name)

    def test_import_error_inside_an_existing_module_propagates(self, tmp_path, monkeypatch):
        (tmp_path / "broken_module_for_test.py").write_text(
            "import dependency_that_is_missing_xyz\n"
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        with pytest.raises(ModuleNotFoundError, match="dependency_that_is_missing_xyz"):
            from_qualified_name("broken_module_for_test.thing")

    @settings(deadline=None, max_examples=30)
    @given(st.sampled_from(sorted(n for n in dir(datetime) if not n.startswith("_"))))
    def test_every_public_name_of_a_module_round_trips(self, name):
        assert from_qualified_name(f"datetime.{name}") is getattr(datetime, name)


def test_marshmallow_is_loaded_only_when_a_schema_class_is_used():
    code = textwrap.dedent(
        """
        import sys
        import prefect.utilities.serialization as s
        s.to_qualified_name(int)
        before = "marshmallow" in sys.modules
        from prefect.utilities.serialization import ObjectSchema
        print(before, "marshmallow" in sys.modules, ObjectSchema.__name__)
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["False", "True", "ObjectSchema"]


def test_unknown_attribute_of_the_module_raises_attribute_error():
    import prefect.utilities.serialization as serialization

    with pytest.raises(AttributeError, match="NotAThing"):
        serialization.NotAThing  # noqa: B018


# --- marshmallow helpers ---------------------------------------------------------------------

from marshmallow import ValidationError, fields  # noqa: E402

from prefect.utilities.serialization import (  # noqa: E402
    UUID,
    Bytes,
    DateTimeTZ,
    FunctionReference,
    JSONCompatible,
    Nested,
    ObjectSchema,
    OneOfSchema,
    SortedList,
    StatefulFunctionReference,
)


class Point:
    def __init__(self, x: int, y: int = 0) -> None:
        self.x = x
        self.y = y


class PointSchema(ObjectSchema):
    class Meta:
        object_class = Point

    x = fields.Integer()
    y = fields.Integer()
    label = fields.String(allow_none=True)


class Segment:
    def __init__(self, start: Point, end: Point) -> None:
        self.start = start
        self.end = end


class SegmentSchema(ObjectSchema):
    class Meta:
        object_class = lambda: Segment  # noqa: E731  (a callable naming the class late)

    start = fields.Nested(PointSchema)
    end = fields.Nested(PointSchema)


class TestObjectSchema:
    def test_dump_adds_the_core_version(self):
        assert PointSchema().dump(Point(1, 2)) == {
            "x": 1,
            "y": 2,
            "__version__": prefect.__version__,
        }

    def test_load_builds_the_object_and_sets_extra_fields_as_attributes(self):
        point = PointSchema().load({"x": 1, "y": 2, "label": "p", "__version__": "0.0.1"})
        assert isinstance(point, Point)
        assert (point.x, point.y, point.label) == (1, 2, "p")

    def test_load_ignores_unknown_keys(self):
        point = PointSchema().load({"x": 1, "added_in_a_later_version": True})
        assert point.x == 1
        assert not hasattr(point, "added_in_a_later_version")

    def test_create_object_false_returns_the_dict(self):
        assert PointSchema().load({"x": 1, "y": 2}, create_object=False) == {"x": 1, "y": 2}

    def test_object_class_may_be_a_callable_returning_the_class(self):
        segment = SegmentSchema().load({"start": {"x": 1}, "end": {"x": 2, "y": 3}})
        assert isinstance(segment, Segment)
        assert (segment.start.x, segment.end.x, segment.end.y) == (1, 2, 3)

    def test_load_many_builds_every_object(self):
        points = PointSchema().load([{"x": 1}, {"x": 2}], many=True)
        assert [p.x for p in points] == [1, 2]

    def test_exclude_fields_are_dumped_but_not_given_to_the_object(self):
        class TaggedSchema(ObjectSchema):
            class Meta:
                object_class = Point
                exclude_fields = ["kind"]

            x = fields.Integer()
            kind = fields.Function(lambda obj: type(obj).__name__, lambda value: value)

        schema = TaggedSchema()
        assert schema.dump(Point(4))["kind"] == "Point"
        point = schema.load({"x": 4, "kind": "Point"})
        assert point.x == 4
        assert not hasattr(point, "kind")

    def test_schema_without_object_class_loads_a_dict(self):
        class PlainSchema(ObjectSchema):
            x = fields.Integer()

        assert PlainSchema().load({"x": 1, "__version__": "1.0"}) == {"x": 1}

    @settings(deadline=None, max_examples=50)
    @given(st.integers(), st.integers(), st.none() | st.text())
    def test_dump_then_load_round_trips(self, x, y, label):
        point = Point(x, y)
        point.label = label
        loaded = PointSchema().load(PointSchema().dump(point))
        assert (loaded.x, loaded.y, loaded.label) == (x, y, label)


class Circle:
    def __init__(self, radius: float) -> None:
        self.radius = radius


class CircleSchema(ObjectSchema):
    class Meta:
        object_class = Circle

    radius = fields.Float()


class ShapeSchema(OneOfSchema):
    type_schemas = {"Point": PointSchema, "Circle": CircleSchema}


class TestOneOfSchema:
    def test_dump_adds_the_type_and_load_dispatches_on_it(self):
        dumped = ShapeSchema().dump(Circle(2.0))
        assert dumped == {"radius": 2.0, "__version__": prefect.__version__, "type": "Circle"}
        assert isinstance(ShapeSchema().load(dumped), Circle)
        assert isinstance(ShapeSchema().load({"type": "Point", "x": 1}), Point)

    def test_dumping_an_unknown_type_raises_validation_error(self):
        with pytest.raises(ValidationError, match="cannot serialize Segment objects"):
            ShapeSchema().dump(Segment(Point(0), Point(1)))

    def test_loading_an_unknown_type_raises_validation_error(self):
        with pytest.raises(ValidationError):
            ShapeSchema().load({"type": "Hexagon"})

    def test_create_object_false_reaches_the_chosen_schema(self):
        assert ShapeSchema().load({"type": "Circle", "radius": 1}, create_object=False) == {
            "radius": 1.0
        }


class Holder:
    def __init__(self, **attributes):
        self.__dict__.update(attributes)


def make_schema(**declared) -> ObjectSchema:
    return type("AdHocSchema", (ObjectSchema,), declared)()


class TestFields:
    def test_json_compatible_accepts_json_values_and_rejects_others(self):
        schema = make_schema(value=JSONCompatible(allow_none=True))
        assert schema.load({"value": {"a": [1, None]}}) == {"value": {"a": [1, None]}}
        with pytest.raises(ValidationError, match="not JSON-compatible"):
            schema.load({"value": {1, 2}})
        with pytest.raises(ValidationError, match="not JSON-compatible"):
            schema.dump(Holder(value=object()))

    def test_nested_value_selection_fn_picks_the_value_from_the_parent(self):
        schema = make_schema(
            best=Nested(PointSchema, value_selection_fn=lambda obj, context: obj.points[0])
        )
        dumped = schema.dump(Holder(points=[Point(5, 6)]))
        assert dumped["best"] == {"x": 5, "y": 6, "__version__": prefect.__version__}

    def test_nested_without_selection_fn_reads_the_attribute(self):
        schema = make_schema(point=Nested(PointSchema, allow_none=True))
        assert schema.dump(Holder(point=None))["point"] is None
        assert schema.dump(Holder(point=Point(1)))["point"]["x"] == 1

    def test_sorted_list_dumps_sorted(self):
        schema = make_schema(tags=SortedList(fields.String()))
        assert schema.dump(Holder(tags={"b", "c", "a"}))["tags"] == ["a", "b", "c"]

    def test_bytes_round_trip_as_base64(self):
        schema = make_schema(data=Bytes())
        dumped = schema.dump(Holder(data=b"\x00\xffhello"))
        assert dumped["data"] == "AP9oZWxsbw=="
        assert schema.load(dumped) == {"data": b"\x00\xffhello"}
        with pytest.raises(ValidationError, match="base64"):
            schema.load({"data": "not base64!"})

    def test_uuid_is_a_canonical_string_both_ways(self):
        schema = make_schema(id=UUID(allow_none=True))
        value = uuid.UUID(int=7)
        assert schema.dump(Holder(id=value))["id"] == str(value)
        assert schema.load({"id": str(value).upper()}) == {"id": str(value)}
        assert schema.load({"id": None}) == {"id": None}
        with pytest.raises(ValidationError):
            schema.load({"id": "not-a-uuid"})

    def test_datetime_tz_keeps_the_time_zone(self):
        import pendulum

        schema = make_schema(when=DateTimeTZ(allow_none=True))
        moment = pendulum.datetime(2020, 3, 8, 1, 30, tz="America/New_York")
        dumped = schema.dump(Holder(when=moment))
        assert dumped["when"] == {"dt": "2020-03-08T01:30:00", "tz": "America/New_York"}
        loaded = schema.load(dumped)["when"]
        assert loaded == moment
        assert loaded.timezone_name == "America/New_York"

    def test_datetime_tz_handles_naive_fixed_offset_and_string_values(self):
        schema = make_schema(when=DateTimeTZ(allow_none=True))
        naive = datetime.datetime(2021, 1, 1, 12)
        assert schema.dump(Holder(when=naive))["when"] == {"dt": "2021-01-01T12:00:00", "tz": "UTC"}
        offset = datetime.datetime(
            2021, 1, 1, 12, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
        )
        assert schema.load(schema.dump(Holder(when=offset)))["when"] == offset
        assert schema.load({"when": "2021-01-01T12:00:00+00:00"})["when"] == naive.replace(
            tzinfo=datetime.timezone.utc
        )
        with pytest.raises(ValidationError):
            schema.load({"when": {"dt": "garbage", "tz": "UTC"}})

    def test_function_reference_round_trips_allowed_functions(self):
        schema = make_schema(fn=FunctionReference(valid_functions=[module_function]))
        dumped = schema.dump(Holder(fn=module_function))
        assert dumped["fn"] == f"{__name__}.module_function"
        assert schema.load(dumped) == {"fn": module_function}

    def test_function_reference_rejects_other_functions(self):
        schema = make_schema(fn=FunctionReference(valid_functions=[module_function]))
        with pytest.raises(ValidationError, match="Invalid function reference"):
            schema.dump(Holder(fn=json.dumps))
        with pytest.raises(ValidationError, match="Invalid function reference"):
            schema.load({"fn": "json.dumps"})

    def test_function_reference_without_rejection_passes_names_through(self):
        schema = make_schema(
            fn=FunctionReference(valid_functions=[module_function], reject_invalid=False)
        )
        assert schema.dump(Holder(fn=json.dumps))["fn"] == "json.dumps"
        assert schema.load({"fn": "json.dumps"}) == {"fn": "json.dumps"}


def at_least(n: int, scale: int = 1):
    helper = str  # captured locals that are not factory parameters are left out

    def check(value: int) -> bool:
        return helper(value) is not None and value * scale >= n

    return check


def always(value: int) -> bool:
    return True


class TestStatefulFunctionReference:
    def schema(self, reject_invalid: bool = True) -> ObjectSchema:
        return make_schema(
            fn=StatefulFunctionReference(
                valid_functions=[at_least, always], reject_invalid=reject_invalid
            )
        )

    def test_closure_dumps_its_factory_and_arguments_and_loads_by_calling_it(self):
        dumped = self.schema().dump(Holder(fn=at_least(3, scale=2)))
        assert dumped["fn"] == {"fn": f"{__name__}.at_least", "kwargs": {"n": 3, "scale": 2}}
        rebuilt = self.schema().load(dumped)["fn"]
        assert rebuilt(2) is True
        assert rebuilt(1) is False

    def test_plain_function_dumps_with_empty_kwargs_and_loads_as_itself(self):
        dumped = self.schema().dump(Holder(fn=always))
        assert dumped["fn"] == {"fn": f"{__name__}.always", "kwargs": {}}
        assert self.schema().load(dumped)["fn"] is always

    def test_unknown_function_is_a_plain_name_without_rejection(self):
        assert self.schema(reject_invalid=False).dump(Holder(fn=json.dumps))["fn"] == "json.dumps"
        with pytest.raises(ValidationError, match="Invalid function reference"):
            self.schema().dump(Holder(fn=json.dumps))
