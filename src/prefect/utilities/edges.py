"""Annotations that change how an input is wired into a task: `mapped`, `unmapped`, `flatten`."""

from __future__ import annotations

from typing import Any

__all__ = ["EdgeAnnotation", "mapped", "unmapped", "flatten"]


class EdgeAnnotation:
    """Wraps a task input to annotate the edge it creates.

    Annotations stack: `flatten(unmapped(x))` carries both `flattened=True` and `mapped=False`,
    the outermost annotation winning where two disagree.

    Args:
        value: the task or value to annotate
    """

    annotations: dict[str, bool] = {}

    def __init__(self, value: Any):
        annotations = {}
        if isinstance(value, EdgeAnnotation):
            annotations.update(value.annotations)
            value = value.value
        annotations.update(type(self).annotations)
        self.annotations = annotations
        self.value: Any = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"


class mapped(EdgeAnnotation):
    """Marks an input to be mapped over, even when the task is called rather than `.map`ped."""

    annotations = {"mapped": True}


class unmapped(EdgeAnnotation):
    """Marks an input of `.map` to be passed whole to every mapped child."""

    annotations = {"mapped": False}


class flatten(EdgeAnnotation):
    """Marks an input (a list of lists, or a mapped task's result) to be flattened one level."""

    annotations = {"flattened": True}
