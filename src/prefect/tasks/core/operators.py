"""Tasks for Python operators: item and attribute access, arithmetic, logic, comparison.

`Task` operator methods build these (`task + 1` binds an `Add`, `task["k"]` a `GetItem`).
"""

from __future__ import annotations

import operator
from typing import Any

from prefect.core.task import NoDefault, Task
from prefect.utilities.tasks import defaults_from_attrs


class GetItem(Task):
    """Index into a task result: `task_result[key]`.

    Args:
        default: returned when the key or index is missing; without it a missing key raises
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, default: Any = NoDefault.value, *args: Any, **kwargs: Any):
        self.default = default
        super().__init__(*args, **kwargs)

    @defaults_from_attrs("default")
    def run(self, task_result: Any, key: Any, default: Any = NoDefault.value) -> Any:
        """Return `task_result[key]`.

        Args:
            task_result: the object to index
            key: the key or index
            default: returned when the lookup fails (default: the task's `default`)

        Returns:
            the item, or `default`

        Raises:
            KeyError, IndexError, TypeError: when the lookup fails and there is no default
        """
        if default is NoDefault.value:
            return task_result[key]
        try:
            return task_result[key]
        except (LookupError, TypeError):
            return default


class GetAttr(Task):
    """Read an attribute of a task result; dotted names (`"a.b.c"`) follow each step.

    Args:
        default: returned when the attribute is missing; without it a missing attribute raises
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, default: Any = NoDefault.value, *args: Any, **kwargs: Any):
        self.default = default
        super().__init__(*args, **kwargs)

    @defaults_from_attrs("default")
    def run(self, task_result: Any, attr: Any, default: Any = NoDefault.value) -> Any:
        """Return `task_result.<attr>`.

        Args:
            task_result: the object to read from
            attr: the attribute name, possibly dotted
            default: returned when the attribute is missing (default: the task's `default`)

        Returns:
            the attribute, or `default`

        Raises:
            AttributeError: when the attribute is missing and there is no default
        """
        getter = operator.attrgetter(attr)
        if default is NoDefault.value:
            return getter(task_result)
        try:
            return getter(task_result)
        except AttributeError:
            return default


class Add(Task):
    """Add two values: `x + y`.

    Args:
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        """Return `x + y`.

        Args:
            x: the left operand
            y: the right operand

        Returns:
            `x + y`
        """
        return x + y


class Sub(Task):
    """Subtract one value from another: `x - y`.

    Args:
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        """Return `x - y`.

        Args:
            x: the left operand
            y: the right operand

        Returns:
            `x - y`
        """
        return x - y


class Mul(Task):
    """Multiply two values: `x * y`.

    Args:
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        """Return `x * y`.

        Args:
            x: the left operand
            y: the right operand

        Returns:
            `x * y`
        """
        return x * y


class Div(Task):
    """Divide one value by another: `x / y`.

    Args:
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        """Return `x / y`.

        Args:
            x: the left operand
            y: the right operand

        Returns:
            `x / y`
        """
        return x / y


class FloorDiv(Task):
    """Floor-divide one value by another: `x // y`.

    Args:
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        """Return `x // y`.

        Args:
            x: the left operand
            y: the right operand

        Returns:
            `x // y`
        """
        return x // y


class Pow(Task):
    """Raise one value to the power of another: `x ** y`.

    Args:
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        """Return `x ** y`.

        Args:
            x: the left operand
            y: the right operand

        Returns:
            `x ** y`
        """
        return x**y


class Mod(Task):
    """The remainder of dividing one value by another: `x % y`.

    Args:
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        """Return `x % y`.

        Args:
            x: the left operand
            y: the right operand

        Returns:
            `x % y`
        """
        return x % y


class And(Task):
    """Logical and of two values: `x and y`.

    Args:
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        """Return `x and y`.

        Args:
            x: the left operand
            y: the right operand

        Returns:
            `x and y`
        """
        return x and y


class Or(Task):
    """Logical or of two values: `x or y`.

    Args:
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        """Return `x or y`.

        Args:
            x: the left operand
            y: the right operand

        Returns:
            `x or y`
        """
        return x or y


class Not(Task):
    """Logical negation of a value: `not x`.

    Args:
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)

    def run(self, x: Any) -> bool:  # type: ignore[override]
        """Return `not x`.

        Args:
            x: the value

        Returns:
            `not x`
        """
        return not x


class Equal(Task):
    """Whether two values are equal: `x == y`.

    Args:
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        """Return `x == y`.

        Args:
            x: the left operand
            y: the right operand

        Returns:
            `x == y`
        """
        return x == y


class NotEqual(Task):
    """Whether two values differ: `x != y`.

    Args:
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        """Return `x != y`.

        Args:
            x: the left operand
            y: the right operand

        Returns:
            `x != y`
        """
        return x != y


class GreaterThanOrEqual(Task):
    """Whether one value is greater than or equal to another: `x >= y`.

    Args:
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        """Return `x >= y`.

        Args:
            x: the left operand
            y: the right operand

        Returns:
            `x >= y`
        """
        return x >= y


class GreaterThan(Task):
    """Whether one value is greater than another: `x > y`.

    Args:
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        """Return `x > y`.

        Args:
            x: the left operand
            y: the right operand

        Returns:
            `x > y`
        """
        return x > y


class LessThanOrEqual(Task):
    """Whether one value is less than or equal to another: `x <= y`.

    Args:
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        """Return `x <= y`.

        Args:
            x: the left operand
            y: the right operand

        Returns:
            `x <= y`
        """
        return x <= y


class LessThan(Task):
    """Whether one value is less than another: `x < y`.

    Args:
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        """Return `x < y`.

        Args:
            x: the left operand
            y: the right operand

        Returns:
            `x < y`
        """
        return x < y
