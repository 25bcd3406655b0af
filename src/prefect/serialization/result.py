"""Schemas of the `Result` types, as they appear in a state's `_result` and `cached_inputs`.

Only where a result is (its `location`, plus the bucket, container or directory) is
serialized, never its value or serializer: a `PrefectResult`'s location is the value's JSON
text, so that is how values reach the backend. `StateResultSchema` picks the schema by the
result's class name; results of other classes dump as ``{"type": "<qualified class name>",
"location": ...}`` and load back as a plain `Result`.
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, ValidationError, fields, post_load

from prefect.engine.result.base import NoResult, NoResultType, Result
from prefect.engine.results import ConstantResult, LocalResult, PrefectResult, SecretResult
from prefect.utilities.serialization import (
    ObjectSchema,
    OneOfSchema,
    from_qualified_name,
    to_qualified_name,
)

__all__ = [
    "AzureResultSchema",
    "ConstantResultSchema",
    "CustomResultSchema",
    "GCSResultSchema",
    "LocalResultSchema",
    "NoResultSchema",
    "PrefectResultSchema",
    "ResultSchema",
    "S3ResultSchema",
    "SecretResultSchema",
    "StateResultSchema",
]


def _cloud_result_class(name: str) -> type:
    import prefect.engine.results

    return getattr(prefect.engine.results, name)  # type: ignore[no-any-return]


class ResultSchema(ObjectSchema):
    """A base `Result` (e.g. a failed state's exception): only its location."""

    class Meta:
        object_class = Result

    location = fields.Str(allow_none=True)


class NoResultSchema(ObjectSchema):
    """`NoResult`: no fields; loads back as the `NoResult` singleton."""

    class Meta:
        object_class = NoResultType

    @post_load
    def create_object(self, data: dict, **kwargs: Any) -> Any:
        """Return the `NoResult` singleton (or the empty dict when not building objects)."""
        if not self._create_object:
            return data
        return NoResult


class CustomResultSchema(ObjectSchema):
    """A result of a class without its own schema (a user's `Result` subclass).

    It loads as a plain `Result` holding the location: the backend never imports user code.
    """

    class Meta:
        object_class = Result

    location = fields.Str(allow_none=True)


class AzureResultSchema(ObjectSchema):
    """`AzureResult`: container and location."""

    class Meta:
        object_class = lambda: _cloud_result_class("AzureResult")  # noqa: E731

    container = fields.Str(allow_none=False)
    location = fields.Str(allow_none=True)


class ConstantResultSchema(ObjectSchema):
    """`ConstantResult`: the location only (constants are not sent to the backend)."""

    class Meta:
        object_class = ConstantResult

    location = fields.Str(allow_none=True)


class GCSResultSchema(ObjectSchema):
    """`GCSResult`: bucket and location."""

    class Meta:
        object_class = lambda: _cloud_result_class("GCSResult")  # noqa: E731

    bucket = fields.Str(allow_none=False)
    location = fields.Str(allow_none=True)


class LocalResultSchema(ObjectSchema):
    """`LocalResult`: directory and location.

    The directory names a place on the machine that ran the task, so loading neither checks
    nor creates it (`validate_dir=False`).
    """

    class Meta:
        object_class = LocalResult

    dir = fields.Str(allow_none=False)
    location = fields.Str(allow_none=True)

    @post_load
    def create_object(self, data: dict, **kwargs: Any) -> Any:
        """Build the `LocalResult` without touching the file system."""
        if self._create_object:
            data["validate_dir"] = False
        return super().create_object(data, **kwargs)


class PrefectResultSchema(ObjectSchema):
    """`PrefectResult`: the location, which is the value's JSON text."""

    class Meta:
        object_class = PrefectResult

    location = fields.Str(allow_none=True)


class S3ResultSchema(ObjectSchema):
    """`S3Result`: bucket and location."""

    class Meta:
        object_class = lambda: _cloud_result_class("S3Result")  # noqa: E731

    bucket = fields.Str(allow_none=False)
    location = fields.Str(allow_none=True)


def _secret_type(result: SecretResult) -> str:
    return to_qualified_name(type(result.secret_task))


class SecretResultSchema(ObjectSchema):
    """`SecretResult`: the secret's name (location) and the secret task's class."""

    class Meta:
        object_class = SecretResult

    location = fields.Str(allow_none=True)
    secret_type = fields.Function(_secret_type, lambda name: name)

    @post_load
    def create_object(self, data: dict, **kwargs: Any) -> Any:
        """Rebuild the secret task from its class and the secret's name."""
        if not self._create_object:
            return data
        secret_type = data.pop("secret_type", None)
        location = data.get("location")
        try:
            secret_task = from_qualified_name(secret_type)(name=location)
        except (ValueError, ImportError, TypeError) as exc:
            raise ValidationError(
                f"Cannot rebuild the secret task {secret_type!r} of a SecretResult: {exc}",
                field_name="secret_type",
            ) from exc
        return SecretResult(secret_task=secret_task, location=location)


class StateResultSchema(OneOfSchema):
    """Any result, chosen by its class name (the ``"type"`` key)."""

    class Meta:
        # Newer writers may add keys: readers ignore what they do not know.
        unknown = EXCLUDE

    type_schemas = {
        "AzureResult": AzureResultSchema,
        "ConstantResult": ConstantResultSchema,
        "CustomResult": CustomResultSchema,
        "GCSResult": GCSResultSchema,
        "LocalResult": LocalResultSchema,
        "NoResultType": NoResultSchema,
        "PrefectResult": PrefectResultSchema,
        "Result": ResultSchema,
        "S3Result": S3ResultSchema,
        "SecretResult": SecretResultSchema,
    }

    def get_obj_type(self, obj: Any) -> str:
        """The class name for known result types, else the qualified class name."""
        name = type(obj).__name__
        if name in self.type_schemas and name != "CustomResult":
            return name
        return to_qualified_name(type(obj))

    def _dump(self, obj: Any, *, update_fields: bool = True, **kwargs: Any) -> Any:
        if not isinstance(obj, Result):
            raise ValidationError(
                f"StateResultSchema serializes Result objects, not {type(obj).__name__}."
            )
        obj_type = self.get_obj_type(obj)
        schema_class = self.type_schemas.get(obj_type, CustomResultSchema)
        schema = schema_class() if isinstance(schema_class, type) else schema_class
        data = schema.dump(obj, many=False, **kwargs)
        data[self.type_field] = obj_type
        return data

    def _load(self, data: Any, *, partial: Any = None, unknown: Any = None, **kwargs: Any) -> Any:
        if isinstance(data, dict):
            data_type = data.get(self.type_field)
            if isinstance(data_type, str) and data_type not in self.type_schemas:
                # A user's result class: the backend keeps its location as a plain Result.
                data = {**data, self.type_field: "CustomResult"}
        return super()._load(data, partial=partial, unknown=unknown, **kwargs)
