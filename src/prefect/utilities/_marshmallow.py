"""Marshmallow base classes and fields shared by ``prefect.serialization``.

Public through ``prefect.utilities.serialization`` (which loads this module on first use, so
``import prefect`` does not pay for marshmallow).
"""

from __future__ import annotations

import base64
import binascii
import functools
import inspect
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import marshmallow_oneofschema
from marshmallow import (
    EXCLUDE,
    Schema,
    SchemaOpts,
    ValidationError,
    fields,
    post_dump,
    post_load,
    pre_load,
)

from prefect.utilities.serialization import to_qualified_name


class ObjectSchemaOptions(SchemaOpts):
    """Options of an :class:`ObjectSchema`'s ``Meta``.

    Besides marshmallow's own options:

    - ``object_class``: the class :meth:`ObjectSchema.load` builds, or a callable returning
      it (so a schema can name a class that is imported late);
    - ``exclude_fields``: fields that are dumped but not handed to the object on load.

    Unknown keys are ignored on load (``unknown = EXCLUDE``) unless ``Meta`` says otherwise:
    newer writers may add keys an older reader does not know.
    """

    def __init__(self, meta: type, **kwargs: Any) -> None:
        super().__init__(meta, **kwargs)
        self.object_class: type | Callable[[], type] | None = getattr(meta, "object_class", None)
        self.exclude_fields: list[str] = list(getattr(meta, "exclude_fields", None) or [])
        if not hasattr(meta, "unknown"):
            self.unknown = EXCLUDE


@functools.lru_cache(maxsize=512)
def _init_parameter_names(cls: type) -> frozenset[str]:
    """The names ``cls.__init__`` accepts as keywords (not ``self``, ``*args``, ``**kwargs``)."""
    try:
        parameters = inspect.signature(getattr(cls, "__init__")).parameters
    except (TypeError, ValueError):
        return frozenset()
    return frozenset(
        name
        for name, parameter in parameters.items()
        if name != "self"
        and parameter.kind
        in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    )


@functools.lru_cache(maxsize=512)
def _parameter_names(fn: Callable) -> frozenset[str]:
    try:
        return frozenset(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return frozenset()


class ObjectSchema(Schema):
    """A schema that dumps an object with a ``__version__`` key and loads it back as an object.

    ``Meta.object_class`` names the class to build: keys that match ``__init__`` parameters are
    passed to it, the others are set as attributes afterwards. ``Meta.exclude_fields`` are left
    out of that. Without an ``object_class`` (or with ``load(..., create_object=False)``) load
    returns the plain dict.
    """

    OPTIONS_CLASS = ObjectSchemaOptions
    opts: ObjectSchemaOptions

    class Meta:
        object_class: type | Callable[[], type] | None = None
        exclude_fields: list[str] = []

    _create_object = True

    def load(  # type: ignore[override]
        self, data: Any, *, create_object: bool = True, **kwargs: Any
    ) -> Any:
        """Deserialize ``data``, building ``Meta.object_class`` unless told not to.

        Args:
            data: the serialized form.
            create_object: when false, return the validated dict instead of an object.
            **kwargs: passed to :meth:`marshmallow.Schema.load` (``many``, ``partial``, ...).

        Returns:
            the object (or the dict).
        """
        previous = self._create_object
        self._create_object = create_object
        try:
            return super().load(data, **kwargs)
        finally:
            self._create_object = previous

    @pre_load
    def _remove_version(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, Mapping) and "__version__" in data:
            data = {key: value for key, value in data.items() if key != "__version__"}
        return data

    @post_dump
    def _add_version(self, data: dict, **kwargs: Any) -> dict:
        import prefect

        data["__version__"] = prefect.__version__
        return data

    @post_load
    def create_object(self, data: dict, **kwargs: Any) -> Any:
        """Build ``Meta.object_class`` from loaded data (a ``post_load`` hook subclasses extend).

        Args:
            data: the validated, deserialized fields.
            **kwargs: marshmallow's hook arguments.

        Returns:
            the new object, or ``data`` when no object is to be built.
        """
        object_class = self.opts.object_class
        if not self._create_object or object_class is None:
            return data
        if not isinstance(object_class, type):
            object_class = object_class()
        excluded = self.opts.exclude_fields
        init_names = _init_parameter_names(object_class)
        init_kwargs = {}
        attributes = {}
        for key, value in data.items():
            if key in excluded:
                continue
            if key in init_names:
                init_kwargs[key] = value
            else:
                attributes[key] = value
        obj = object_class(**init_kwargs)
        for key, value in attributes.items():
            setattr(obj, key, value)
        return obj


class OneOfSchema(marshmallow_oneofschema.OneOfSchema):
    """Dispatch to one of ``type_schemas`` by the ``"type"`` key (the class name by default).

    Dumping an object whose type has no schema raises ``ValidationError`` (the upstream class
    silently returns an error tuple), and ``load`` accepts ``create_object`` like
    :class:`ObjectSchema`.
    """

    def load(  # type: ignore[override]
        self, data: Any, *, create_object: bool = True, **kwargs: Any
    ) -> Any:
        """Deserialize ``data`` with the schema its ``"type"`` key names.

        Args:
            data: the serialized form.
            create_object: when false, the chosen schema returns its validated dict.
            **kwargs: passed on (``many``, ``partial``, ``unknown``).

        Returns:
            the loaded object (or dict).
        """
        if not create_object:
            kwargs["create_object"] = False
        return super().load(data, **kwargs)

    def _dump(self, obj: Any, *, update_fields: bool = True, **kwargs: Any) -> Any:
        obj_type = self.get_obj_type(obj)
        if obj_type is None or obj_type not in self.type_schemas:
            known = ", ".join(sorted(self.type_schemas))
            raise ValidationError(
                f"{type(self).__name__} cannot serialize {type(obj).__name__} objects "
                f"(type {obj_type!r}); known types: {known}."
            )
        return super()._dump(obj, update_fields=update_fields, **kwargs)


class JSONCompatible(fields.Field):
    """Any value that ``json.dumps`` accepts; anything else fails validation both ways."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.validators.insert(0, self._validate_json)

    @staticmethod
    def _validate_json(value: Any) -> None:
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"Value is not JSON-compatible: {exc}") from exc

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        self._validate_json(value)
        return value


class Nested(fields.Nested):
    """A nested field whose value may come from a function of the parent object.

    Args:
        nested: the nested schema (class, instance or name).
        value_selection_fn: called as ``value_selection_fn(obj, context)`` on dump to pick the
            value to serialize, instead of reading the attribute; ``None`` reads the attribute.
        **kwargs: passed to ``marshmallow.fields.Nested``.
    """

    def __init__(
        self,
        nested: Any,
        value_selection_fn: Callable[[Any, dict], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(nested, **kwargs)
        self.value_selection_fn = value_selection_fn
        if value_selection_fn is not None:
            # Marshmallow would otherwise skip the field when the attribute is missing.
            self._CHECK_ATTRIBUTE = False

    # marshmallow's own Nested renames Field's `value` parameter; we follow Nested.
    def _serialize(  # type: ignore[override]
        self, nested_obj: Any, attr: str | None, obj: Any, **kwargs: Any
    ) -> Any:
        if self.value_selection_fn is not None:
            nested_obj = self.value_selection_fn(obj, self.context or {})
        if nested_obj is None:
            return None
        return super()._serialize(nested_obj, attr, obj, **kwargs)


class SortedList(fields.List):
    """A list field that dumps its items sorted (tags, labels), so output is stable."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        result = super()._serialize(value, attr, obj, **kwargs)
        if result is None:
            return None
        return sorted(result)


class Bytes(fields.Field):
    """``bytes`` dumped as base64 text."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        return base64.b64encode(value).decode("ascii")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        try:
            return base64.b64decode(value, validate=True)
        except (TypeError, ValueError, binascii.Error) as exc:
            raise ValidationError(f"Not valid base64 text: {exc}") from exc


class UUID(fields.UUID):
    """A UUID kept as its canonical string in both directions (Prefect ids are strings)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        return str(self._validated(value))

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        return str(self._validated(value))


class DateTimeTZ(fields.DateTime):
    """A datetime dumped as ``{"dt": <naive ISO text>, "tz": <time zone name>}``.

    Loading gives a pendulum ``DateTime`` in that zone, so schedules keep their time zone
    (and daylight-saving behaviour) across serialization. A naive datetime is taken as UTC.
    Plain ISO strings are accepted on load as well.
    """

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        import pendulum

        moment = pendulum.instance(value)
        return {"dt": moment.naive().isoformat(), "tz": moment.tzinfo.name}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        import pendulum

        try:
            if isinstance(value, Mapping):
                tz = value.get("tz") or "UTC"
                if tz[:1] in ("+", "-"):
                    # A fixed offset ("+01:00") is not a zone name pendulum can look up.
                    return pendulum.parse(value["dt"] + tz)
                return pendulum.parse(value["dt"], tz=tz)
            if isinstance(value, str):
                return pendulum.parse(value)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"Not a valid datetime: {value!r} ({exc})") from exc
        raise ValidationError(
            f'Not a valid datetime: {value!r}; expected {{"dt": ..., "tz": ...}}.'
        )


class FunctionReference(fields.Field):
    """A function dumped as its qualified name and loaded back from a list of allowed ones.

    Args:
        valid_functions: the functions that may be referenced.
        reject_invalid: when true, other functions fail validation; when false their name is
            dumped and a name that is not allowed loads as the plain string.
        **kwargs: passed to ``marshmallow.fields.Field``.
    """

    def __init__(
        self, valid_functions: Iterable[Callable], reject_invalid: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.valid_functions = {to_qualified_name(fn): fn for fn in valid_functions}
        self.reject_invalid = reject_invalid

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        try:
            name = to_qualified_name(value)
        except AttributeError:
            raise ValidationError(f"Not a function: {value!r}") from None
        if self.valid_functions.get(name) is not value and self.reject_invalid:
            raise ValidationError(f"Invalid function reference: {name}")
        return name

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        if value in self.valid_functions:
            return self.valid_functions[value]
        if self.reject_invalid:
            raise ValidationError(f"Invalid function reference: {value}")
        return value


class StatefulFunctionReference(fields.Field):
    """A function that may be a closure made by a factory (``some_successful(at_least=2)``).

    A plain allowed function dumps as ``{"fn": <name>, "kwargs": {}}``; a closure dumps the
    factory's name and the closure's captured variables as ``kwargs``, and loads by calling
    the factory with them. A function that is not allowed dumps as its plain qualified name
    (or fails validation with ``reject_invalid``).

    Args:
        valid_functions: the functions (and closure factories) that may be referenced.
        reject_invalid: when true, other functions fail validation.
        **kwargs: passed to ``marshmallow.fields.Field``.
    """

    def __init__(
        self, valid_functions: Iterable[Callable], reject_invalid: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.valid_functions = {to_qualified_name(fn): fn for fn in valid_functions}
        self.reject_invalid = reject_invalid

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        try:
            name = to_qualified_name(value)
        except AttributeError:
            raise ValidationError(f"Not a function: {value!r}") from None
        # A closure's qualname is "<factory>.<locals>.<inner>"; the factory is what we name.
        factory_name = name.split(".<locals>.", 1)[0]
        if factory_name not in self.valid_functions:
            if self.reject_invalid:
                raise ValidationError(f"Invalid function reference: {name}")
            return name
        closure = getattr(value, "__closure__", None) or ()
        free_names = value.__code__.co_freevars if closure else ()
        # Only the factory's own parameters are kwargs; other captured names are internals.
        parameters = _parameter_names(self.valid_functions[factory_name])
        captured = {
            free_name: cell.cell_contents
            for free_name, cell in zip(free_names, closure)
            if free_name in parameters
        }
        return {"fn": factory_name, "kwargs": captured}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, Mapping):
            name = value.get("fn")
            call_kwargs = value.get("kwargs") or {}
        else:
            name, call_kwargs = value, {}
        if name not in self.valid_functions:
            if self.reject_invalid:
                raise ValidationError(f"Invalid function reference: {name}")
            return name
        fn = self.valid_functions[name]
        return fn(**call_kwargs) if call_kwargs else fn
