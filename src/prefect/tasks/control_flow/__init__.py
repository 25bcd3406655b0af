"""Control flow: run parts of a flow conditionally (`case`, `switch`, `ifelse`), join the
branches again (`merge`), and drop unwanted results (`FilterTask`)."""

from __future__ import annotations

from prefect.tasks.control_flow.case import case
from prefect.tasks.control_flow.conditional import ifelse, merge, switch
from prefect.tasks.control_flow.filter import FilterTask

__all__ = ["FilterTask", "case", "ifelse", "merge", "switch"]
