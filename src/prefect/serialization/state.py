"""Schemas of the states: the JSON a 1.x client sends to the backend for every state change.

Every state dumps ``message``, ``context``, ``cached_inputs`` and ``_result`` (the state's
`Result`, through `prefect.serialization.result.StateResultSchema`: where the value is, never
the value itself), plus its own fields (``start_time``, ``run_count``, ``loop_count``, the
wrapped ``state`` of a meta state, ...), ``__version__`` and the class name as ``"type"``.
`Mapped` states leave out ``_result`` and send their number of children instead of the
children. `StateSchema` dumps and loads any of them.

The engine's hot paths use `prefect.serialization._state_codec`, which gives the same JSON
without marshmallow.
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, fields, post_load

from prefect.engine import state
from prefect.engine.result.base import Result
from prefect.serialization.result import StateResultSchema
from prefect.utilities.serialization import JSONCompatible, Nested, ObjectSchema, OneOfSchema

__all__ = [
    "BaseStateSchema",
    "CachedSchema",
    "CancelledSchema",
    "CancellingSchema",
    "ClientFailedSchema",
    "FailedSchema",
    "FinishedSchema",
    "LoopedSchema",
    "MappedSchema",
    "MetaStateSchema",
    "PausedSchema",
    "PendingSchema",
    "QueuedSchema",
    "ResumeSchema",
    "RetryingSchema",
    "RunningSchema",
    "ScheduledSchema",
    "SkippedSchema",
    "StateSchema",
    "SubmittedSchema",
    "SuccessSchema",
    "TimedOutSchema",
    "TriggerFailedSchema",
    "ValidationFailedSchema",
    "get_safe",
]


def get_safe(obj: state.State, context: dict) -> Result:
    """The `Result` a state serializes as its ``_result``: the stored result, never the raw
    value (which may be anything, and is not sent to the backend).

    Args:
        obj: the state being serialized.
        context: the schema context (unused; part of the field's selection protocol).

    Returns:
        the state's `Result` (`NoResult` when it has none).
    """
    stored = obj._result
    return stored if isinstance(stored, Result) else Result(value=stored)


class BaseStateSchema(ObjectSchema):
    """The fields every state has."""

    class Meta:
        object_class = state.State

    message = fields.String(allow_none=True)
    # Context values may be null (e.g. an unset parameter): loading must accept them. The
    # field shadows `Schema.context` only in the class body: marshmallow moves declared
    # fields out of the class namespace.
    context = fields.Dict(  # type: ignore[assignment]
        keys=fields.Str(), values=JSONCompatible(allow_none=True), allow_none=True
    )
    cached_inputs = fields.Dict(
        keys=fields.Str(), values=Nested(StateResultSchema), allow_none=True
    )
    _result = Nested(StateResultSchema, allow_none=False, value_selection_fn=get_safe)

    @post_load
    def create_object(self, data: dict, **kwargs: Any) -> Any:
        """Build the state, passing the loaded ``_result`` as its `result`."""
        if self._create_object and "_result" in data:
            data["result"] = data.pop("_result")
        return super().create_object(data, **kwargs)


class PendingSchema(BaseStateSchema):
    class Meta:
        object_class = state.Pending


class MetaStateSchema(BaseStateSchema):
    """States that wrap another state (``state``)."""

    state = fields.Nested(lambda: StateSchema(), allow_none=True)


class ClientFailedSchema(MetaStateSchema):
    class Meta:
        object_class = state.ClientFailed


class SubmittedSchema(MetaStateSchema):
    class Meta:
        object_class = state.Submitted


class QueuedSchema(MetaStateSchema):
    class Meta:
        object_class = state.Queued

    start_time = fields.DateTime(allow_none=True)


class ScheduledSchema(PendingSchema):
    class Meta:
        object_class = state.Scheduled

    start_time = fields.DateTime(allow_none=True)


class ResumeSchema(ScheduledSchema):
    class Meta:
        object_class = state.Resume


class RetryingSchema(ScheduledSchema):
    class Meta:
        object_class = state.Retrying

    run_count = fields.Int(allow_none=True)


class RunningSchema(BaseStateSchema):
    class Meta:
        object_class = state.Running


class CancellingSchema(RunningSchema):
    class Meta:
        object_class = state.Cancelling


class FinishedSchema(BaseStateSchema):
    class Meta:
        object_class = state.Finished


class LoopedSchema(BaseStateSchema):
    class Meta:
        object_class = state.Looped

    loop_count = fields.Int(allow_none=False)


class SuccessSchema(FinishedSchema):
    class Meta:
        object_class = state.Success


class CachedSchema(SuccessSchema):
    class Meta:
        object_class = state.Cached

    cached_parameters = JSONCompatible(allow_none=True)
    cached_result_expiration = fields.DateTime(allow_none=True)
    hashed_inputs = fields.Dict(keys=fields.Str(), values=fields.Str(), allow_none=True)


class MappedSchema(SuccessSchema):
    """`Mapped`: the number of children (``n_map_states``) and no ``_result``.

    A loaded `Mapped` state knows how many children there were (`n_map_states`), not their
    states: each child run reports its own.
    """

    class Meta:
        object_class = state.Mapped
        exclude = ("_result",)

    n_map_states = fields.Int()


class FailedSchema(FinishedSchema):
    class Meta:
        object_class = state.Failed


class CancelledSchema(FinishedSchema):
    class Meta:
        object_class = state.Cancelled


class TimedOutSchema(FinishedSchema):
    class Meta:
        object_class = state.TimedOut


class TriggerFailedSchema(FailedSchema):
    class Meta:
        object_class = state.TriggerFailed


class ValidationFailedSchema(FailedSchema):
    class Meta:
        object_class = state.ValidationFailed


class SkippedSchema(SuccessSchema):
    class Meta:
        object_class = state.Skipped


class PausedSchema(ScheduledSchema):
    class Meta:
        object_class = state.Paused


class StateSchema(OneOfSchema):
    """Any state, chosen by its class name (the ``"type"`` key).

    Example:
        >>> StateSchema().dump(Success("done"))["type"]
        'Success'
    """

    class Meta:
        # Newer writers may add keys: readers ignore what they do not know.
        unknown = EXCLUDE

    type_schemas = {
        "Cached": CachedSchema,
        "Cancelled": CancelledSchema,
        "Cancelling": CancellingSchema,
        "ClientFailed": ClientFailedSchema,
        "Failed": FailedSchema,
        "Finished": FinishedSchema,
        "Looped": LoopedSchema,
        "Mapped": MappedSchema,
        "Paused": PausedSchema,
        "Pending": PendingSchema,
        "Queued": QueuedSchema,
        "Resume": ResumeSchema,
        "Retrying": RetryingSchema,
        "Running": RunningSchema,
        "Scheduled": ScheduledSchema,
        "Skipped": SkippedSchema,
        "Submitted": SubmittedSchema,
        "Success": SuccessSchema,
        "TimedOut": TimedOutSchema,
        "TriggerFailed": TriggerFailedSchema,
        "ValidationFailed": ValidationFailedSchema,
    }
