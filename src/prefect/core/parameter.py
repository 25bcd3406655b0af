"""Parameters: flow inputs supplied at run time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Optional, Union

import prefect
from prefect.core.task import NoDefault, Task

if TYPE_CHECKING:
    from prefect.core.flow import Flow

__all__ = ["Parameter", "DateTimeParameter"]

no_default = NoDefault.value

JSONSerializableParameterValue = Optional[Union[NoDefault, str, int, float, bool, list, dict]]


class Parameter(Task):
    """A task whose value is supplied when the flow runs (`flow.run(parameters={...})`).

    Its name is also its slug, so a flow cannot hold two parameters of the same name.

    Args:
        name: the parameter's name
        default: the value used when none is supplied
        required: whether a value must be supplied (default: true when there is no default)
        tags: tags for the task
    """

    def __init__(
        self,
        name: str,
        default: JSONSerializableParameterValue = no_default,
        required: bool | None = None,
        tags: Iterable[str] | None = None,
    ):
        if required is None:
            required = default is no_default
        if default is no_default:
            default = None
        self.required = required
        self.default = default
        from prefect.engine.results import PrefectResult

        # A parameter's value is its result: stored inline, as JSON.
        super().__init__(name=name, slug=name, tags=tags, result=PrefectResult())

    def __repr__(self) -> str:
        return f"<Parameter: {self.name}>"

    def __call__(self, flow: Flow | None = None) -> Parameter:  # type: ignore[override]
        """Add the parameter to the flow (the functional API); parameters take no inputs.

        Args:
            flow: the flow (default: the active flow)

        Returns:
            the parameter itself
        """
        return self.bind(flow=flow)  # type: ignore[return-value]

    def copy(self, name: str, **task_args: Any) -> Task:  # type: ignore[override]
        """A copy under a new name (a flow cannot hold two parameters of the same name).

        Args:
            name: the copy's name and slug
            **task_args: attributes to set on the copy
        """
        return super().copy(name=name, slug=name, **task_args)

    def run(self) -> Any:
        """The value supplied in `prefect.context.parameters`, else the default.

        Raises:
            prefect.engine.signals.FAIL: when the parameter is required and not supplied
        """
        params = prefect.context.get("parameters") or {}
        if self.required and self.name not in params:
            from prefect.engine import signals

            message = f'Parameter "{self.name}" was required but not provided.'
            self.logger.debug(message)
            raise signals.FAIL(message)
        return params.get(self.name, self.default)

    def serialize(self) -> dict[str, Any]:
        """The parameter as the 1.x JSON (`prefect.serialization.task.ParameterSchema`)."""
        from prefect.serialization.task import ParameterSchema

        return ParameterSchema().dump(self)


class DateTimeParameter(Parameter):
    """A parameter whose value is an ISO 8601 string parsed into a datetime (pendulum).

    Args:
        name: the parameter's name
        default: the value used when none is supplied
        required: whether a value must be supplied
        tags: tags for the task
    """

    def __init__(
        self,
        name: str,
        default: JSONSerializableParameterValue = no_default,
        required: bool = True,
        tags: Iterable[str] | None = None,
    ) -> None:
        super().__init__(name=name, default=default, required=required, tags=tags)
        from prefect.engine.results import PrefectResult
        from prefect.engine.serializers import DateTimeSerializer

        self.result = PrefectResult(serializer=DateTimeSerializer())

    def run(self) -> Any:
        """The supplied value parsed into a datetime (`None` stays `None`)."""
        value = super().run()
        if value is None or not isinstance(value, str):
            return value
        import pendulum

        return pendulum.parse(value)
