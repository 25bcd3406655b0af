"""Schemas of tasks and parameters: the task objects of a serialized flow.

A task dumps what the backend records about it (name, slug, class, retry and cache settings,
trigger, the names and types of its inputs and output), never its code. Loading gives a
placeholder `Task` carrying those settings (a `Parameter` for `ParameterSchema`): enough to
rebuild the shape of a flow, not to run it.

Inside a flow dump a task's slug is the one the flow gave it (`flow.slugs`), so edges and
reference tasks can name it. Within one load, tasks with the same slug are the same object:
that is how `FlowSchema` rebuilds edges between the tasks it has loaded.
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from marshmallow import fields, missing, post_load

import prefect
from prefect.core.parameter import Parameter
from prefect.core.task import Task
from prefect.engine import cache_validators
from prefect.utilities.serialization import (
    JSONCompatible,
    ObjectSchema,
    SortedList,
    StatefulFunctionReference,
    to_qualified_name,
)

if TYPE_CHECKING:
    from prefect.core.flow import Flow

__all__ = ["ParameterSchema", "TaskMethodsMixin", "TaskSchema"]

# The flow being dumped (its slugs name the tasks), and the tasks loaded so far by slug.
_DUMPING_FLOW: contextvars.ContextVar[Flow | None] = contextvars.ContextVar(
    "prefect_serialization_dumping_flow", default=None
)
_TASK_CACHE: contextvars.ContextVar[dict[str, Task] | None] = contextvars.ContextVar(
    "prefect_serialization_task_cache", default=None
)
_CREATE_OBJECTS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "prefect_serialization_create_objects", default=True
)

_TRIGGERS: list[Callable[..., Any]] = [
    prefect.triggers.all_finished,
    prefect.triggers.manual_only,
    prefect.triggers.always_run,
    prefect.triggers.all_successful,
    prefect.triggers.all_failed,
    prefect.triggers.any_successful,
    prefect.triggers.any_failed,
    prefect.triggers.some_failed,
    prefect.triggers.some_successful,
    prefect.triggers.not_all_skipped,
]

_CACHE_VALIDATORS: list[Callable[..., Any]] = [
    cache_validators.never_use,
    cache_validators.duration_only,
    cache_validators.all_inputs,
    cache_validators.all_parameters,
    cache_validators.partial_inputs_only,
    cache_validators.partial_parameters_only,
]


class _FunctionReferenceOrName(StatefulFunctionReference):
    """A trigger or cache validator; a placeholder's stored name (a user's function, loaded
    as its qualified name) dumps back as that name."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            return value
        return super()._serialize(value, attr, obj, **kwargs)


@contextlib.contextmanager
def _dumping(flow: Flow) -> Iterator[None]:
    """Name tasks by `flow`'s slugs while the flow is dumped."""
    token = _DUMPING_FLOW.set(flow)
    try:
        yield
    finally:
        _DUMPING_FLOW.reset(token)


@contextlib.contextmanager
def _task_cache_scope(create_object: bool) -> Iterator[bool]:
    """Share loaded tasks by slug until the outermost load returns (nested loads join it).

    Yields whether this load builds objects: nested loads follow the outermost one.
    """
    if _TASK_CACHE.get() is not None:
        yield create_object and _CREATE_OBJECTS.get()
        return
    tokens = (_TASK_CACHE.set({}), _CREATE_OBJECTS.set(create_object))
    try:
        yield create_object
    finally:
        _TASK_CACHE.reset(tokens[0])
        _CREATE_OBJECTS.reset(tokens[1])


def _qualified_type(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return obj.get("type", missing)
    stored = getattr(obj, "__dict__", {}).get("_serialized_type")
    return stored if stored is not None else to_qualified_name(type(obj))


def _prefect_annotations(task: Task, details: Iterable[dict]) -> dict[str, Any]:
    """The evaluated `run` annotations of Prefect's own tasks (``"return"`` for the output).

    Our modules use postponed annotations, so their `run` annotations are strings; 1.x wrote
    the evaluated types (``"typing.Any"``, not ``"Any"``). Users' string annotations are kept
    as written, as 1.x does.
    """
    if not any(isinstance(d["type"], str) for d in details):
        return {}
    run = task.run
    if not getattr(run, "__module__", "").startswith("prefect."):
        return {}
    try:
        signature = inspect.signature(run, eval_str=True)
    except (NameError, AttributeError, TypeError, ValueError, SyntaxError):
        return {}  # e.g. an annotation naming a type-checking-only import: keep the text
    annotations = {
        name: parameter.annotation
        for name, parameter in signature.parameters.items()
        if parameter.annotation is not inspect.Parameter.empty
    }
    if signature.return_annotation is not inspect.Signature.empty:
        annotations["return"] = signature.return_annotation
    return annotations


class TaskMethodsMixin:
    """What task and parameter schemas share: reading attributes, input and output
    descriptions, and loading tasks once per slug."""

    _create_object: bool

    def get_attribute(self, obj: Any, key: str, default: Any) -> Any:
        """Read a field's value from a task (or a dict standing for one).

        Tasks are read with `getattr` only: indexing a task builds a `GetItem` task. Inside a
        flow dump, a task's slug is the one the flow gave it.

        Args:
            obj: the task (or mapping) being dumped.
            key: the field's attribute name.
            default: returned when the attribute is missing.

        Returns:
            the value.
        """
        if isinstance(obj, Task):
            if key == "slug":
                flow = _DUMPING_FLOW.get()
                if flow is not None:
                    slug = flow.slugs.get(obj)
                    if slug is not None:
                        return slug
            return getattr(obj, key, default)
        return super().get_attribute(obj, key, default)  # type: ignore[misc]

    def load_inputs(self, task: Any) -> Any:
        """The inputs of the task's `run`: `{name: {"required": ..., "type": ...}}`.

        Args:
            task: the task being dumped (a mapping's own ``inputs`` are passed through).

        Returns:
            the description of each input, types as text.
        """
        if not isinstance(task, Task):
            return self.get_attribute(task, "inputs", missing)
        stored = task.__dict__.get("_serialized_inputs")
        if stored is not None:
            return stored
        inputs = task.inputs()
        hints = _prefect_annotations(task, inputs.values())
        return {
            name: {
                "required": details["required"],
                "type": str(hints.get(name, details["type"])),
            }
            for name, details in inputs.items()
        }

    def load_outputs(self, task: Any) -> Any:
        """The return type of the task's `run`, as text.

        Args:
            task: the task being dumped (a mapping's own ``outputs`` are passed through).

        Returns:
            the type's text (``"typing.Any"`` when `run` has no annotation).
        """
        if not isinstance(task, Task):
            return self.get_attribute(task, "outputs", missing)
        stored = task.__dict__.get("_serialized_outputs")
        if stored is not None:
            return stored
        outputs = task.outputs()
        return str(_prefect_annotations(task, [{"type": outputs}]).get("return", outputs))

    def _stored_value(self, value: Any) -> Any:
        # Loaded as stored (not used to build the task; a placeholder dumps them back).
        return value

    def load(self, data: Any, *, create_object: bool = True, **kwargs: Any) -> Any:
        """Load a task (or, with ``many=True``, tasks), one object per slug.

        Within one load (including the loads nested in an edge or flow load) a slug met again
        gives the task already built; separate loads never share tasks.

        Args:
            data: the serialized task.
            create_object: when false, return the validated dict.
            **kwargs: passed to `marshmallow.Schema.load`.

        Returns:
            the task (or dict).
        """
        with _task_cache_scope(create_object) as create:
            return super().load(data, create_object=create, **kwargs)  # type: ignore[misc]

    @post_load
    def create_object(self, data: dict, **kwargs: Any) -> Any:
        """Build the task, or return the one already loaded under the same slug.

        Args:
            data: the loaded fields.
            **kwargs: marshmallow's hook arguments.

        Returns:
            the task (or ``data`` when no object is to be built).
        """
        if not self._create_object:
            return data
        slug = data.get("slug")
        cache = _TASK_CACHE.get()
        if slug is not None and cache is not None and slug in cache:
            return cache[slug]
        task = super().create_object(data, **kwargs)  # type: ignore[misc]
        # A placeholder dumps as what it stands for, so a loaded flow dumps as it was stored.
        for key in ("type", "inputs", "outputs"):
            if data.get(key) is not None:
                task.__dict__[f"_serialized_{key}"] = data[key]
        if slug is not None and cache is not None:
            cache[slug] = task
        return task


class TaskSchema(TaskMethodsMixin, ObjectSchema):
    """A task's settings; loads as a placeholder `Task` carrying them."""

    class Meta:
        object_class = Task
        exclude_fields = ["type", "inputs", "outputs"]

    type = fields.Function(_qualified_type, lambda name: name)
    name = fields.String(allow_none=True)
    slug = fields.String(allow_none=True)
    tags = SortedList(fields.String())
    max_retries = fields.Integer(allow_none=True)
    retry_delay = fields.TimeDelta(allow_none=True)
    inputs = fields.Method("load_inputs", "_stored_value", allow_none=True)
    outputs = fields.Method("load_outputs", "_stored_value", allow_none=True)
    timeout = fields.Integer(allow_none=True)
    trigger = _FunctionReferenceOrName(
        valid_functions=_TRIGGERS, reject_invalid=False, allow_none=True
    )
    skip_on_upstream_skip = fields.Boolean(allow_none=True)
    cache_for = fields.TimeDelta(allow_none=True)
    cache_key = fields.String(allow_none=True)
    cache_validator = _FunctionReferenceOrName(
        valid_functions=_CACHE_VALIDATORS, reject_invalid=False, allow_none=True
    )
    auto_generated = fields.Boolean(allow_none=True)


class ParameterSchema(TaskMethodsMixin, ObjectSchema):
    """A parameter: name (also its slug), default, whether it is required, tags."""

    class Meta:
        object_class = Parameter
        exclude_fields = ["type", "outputs", "slug"]

    type = fields.Function(_qualified_type, lambda name: name)
    name = fields.String(required=True)
    slug = fields.String(allow_none=True)
    default = JSONCompatible(allow_none=True)
    required = fields.Boolean(allow_none=True)
    tags = SortedList(fields.String())
    outputs = fields.Method("load_outputs", "_stored_value", allow_none=True)
