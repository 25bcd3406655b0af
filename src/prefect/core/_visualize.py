"""Drawing a flow with graphviz (`Flow.visualize`)."""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefect.core.flow import Flow
    from prefect.engine.state import State


def _import_graphviz() -> Any:
    try:
        import graphviz
    except ImportError as exc:
        raise ImportError(
            "This feature requires graphviz: pip install 'prefect[viz]' (and the Graphviz "
            "`dot` program, e.g. apt-get install graphviz)."
        ) from exc
    return graphviz


def visualize_flow(
    flow: Flow,
    flow_state: State | None = None,
    filename: str | None = None,
    format: str | None = None,
    horizontal: bool = False,
) -> Any:
    """Build the flow's `graphviz.Digraph`; render it to `filename` or show it."""
    graphviz = _import_graphviz()
    graph = graphviz.Digraph(name=flow.name)
    if horizontal:
        graph.attr(rankdir="LR")

    task_states = {}
    if flow_state is not None and isinstance(getattr(flow_state, "result", None), dict):
        task_states = flow_state.result

    for task in flow.sorted_tasks():
        mapped = any(edge.mapped for edge in flow.edges_to(task))
        attrs: dict[str, str] = {"shape": "box" if mapped else "ellipse"}
        state = task_states.get(task)
        if state is not None:
            attrs.update(style="filled", fillcolor=state.color + "80")
        graph.node(str(id(task)), f"{task.name} <map>" if mapped else task.name, **attrs)
        if mapped and state is not None and state.is_mapped():
            for index, child in enumerate(state.map_states):
                graph.node(
                    str(id(task)) + str(index),
                    f"{task.name} <map_index={index}>",
                    shape="box",
                    style="filled",
                    fillcolor=child.color + "80",
                )

    for edge in flow.edges:
        style = "dashed" if edge.mapped else None
        attrs = {"label": edge.key} if edge.key else {}
        if style:
            attrs["style"] = style
        graph.edge(str(id(edge.upstream_task)), str(id(edge.downstream_task)), **attrs)

    if filename:
        graph.render(filename, view=False, format=format or "pdf", cleanup=True)
        return graph

    try:
        from IPython import get_ipython  # type: ignore[import-not-found]

        in_notebook = get_ipython() is not None and "IPKernelApp" in get_ipython().config
    except Exception:  # no IPython, or not a kernel: open a viewer instead
        in_notebook = False
    if not in_notebook:
        with tempfile.NamedTemporaryFile(delete=False) as tmp:
            tmp.close()
            try:
                graph.render(tmp.name, view=True, format=format)
            except graphviz.backend.ExecutableNotFound as exc:
                raise graphviz.backend.ExecutableNotFound(
                    "Graphviz's `dot` program was not found on your PATH; install Graphviz "
                    "(https://graphviz.org/download/, e.g. apt-get install graphviz). The "
                    "`graphviz` Python package alone is not enough."
                ) from exc
            finally:
                os.unlink(tmp.name)
    return graph
