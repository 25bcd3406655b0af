"""Creating flow runs (protocol §6.3): the flow lookup, the label, run config and parameter
fallbacks, idempotency keys, the task runs created with the run, and generated run names.

Public through `prefect.server.api.runs`.
"""

from __future__ import annotations

import datetime
import random
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from prefect.engine.state import Scheduled
from prefect.server.api.states import _is_uuid, prepare_state, run_columns, state_row
from prefect.server.database import models
from prefect.server.database.engine import Database
from prefect.server.errors import ServerError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["create_flow_run", "generate_run_name"]

_flow = models.flow
_flow_group = models.flow_group
_flow_run = models.flow_run
_task = models.task
_task_run = models.task_run

# The document the database default gave pre-created task runs in 1.x (protocol §5.1): minimal,
# no `__version__`, no `_result`; the client accepts it.
_CREATED_TASK_RUN_STATE = {"type": "Pending", "message": "Task run created"}

_ADJECTIVES = (
    "amber", "ancient", "bold", "brave", "bright", "calm", "clever", "cosmic", "crimson",
    "curious", "daring", "dazzling", "eager", "electric", "emerald", "fancy", "fearless",
    "gentle", "glowing", "golden", "grinning", "hasty", "humble", "icy", "jolly", "keen",
    "lively", "lucky", "mauve", "mellow", "misty", "nimble", "noble", "olive", "outgoing",
    "patient", "plucky", "polite", "proud", "quick", "quiet", "rapid", "rustic", "sandy",
    "scarlet", "shiny", "silent", "silver", "smart", "spry", "steady", "sturdy", "sunny",
    "swift", "teal", "tidy", "tranquil", "vivid", "wandering", "witty", "zealous",
)  # fmt: skip
_ANIMALS = (
    "albatross", "alpaca", "antelope", "badger", "beaver", "bison", "bobcat", "buffalo",
    "butterfly", "camel", "caribou", "cheetah", "chipmunk", "cobra", "condor", "coyote",
    "crane", "dingo", "dolphin", "eagle", "falcon", "ferret", "finch", "flamingo", "fox",
    "gazelle", "gecko", "gibbon", "heron", "hyena", "ibex", "iguana", "jackal", "jaguar",
    "koala", "lemur", "leopard", "llama", "lynx", "marmot", "mongoose", "moose", "narwhal",
    "ocelot", "otter", "owl", "panda", "pelican", "penguin", "puffin", "quail", "raccoon",
    "raven", "salamander", "seal", "sparrow", "starling", "tapir", "toucan", "walrus",
    "weasel", "wolf", "wombat", "yak", "zebra",
)  # fmt: skip


def generate_run_name() -> str:
    """A random `adjective-animal` name for a flow run, e.g. `mauve-sparrow`."""
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_ANIMALS)}"


def _as_utc(value: datetime.datetime | str | None) -> datetime.datetime:
    if value is None:
        return models.utcnow()
    if isinstance(value, str):
        try:
            return models.parse_timestamp(value)
        except ValueError as exc:
            raise ServerError(str(exc)) from None
    if value.tzinfo is None:
        return value.replace(tzinfo=models.UTC)
    return value.astimezone(models.UTC)


# ------------------------------------------------------------------------------ create_flow_run

_FLOW_COLUMNS = (
    _flow.c.id,
    _flow.c.tenant_id,
    _flow.c.archived,
    _flow.c.parameters,
    _flow.c.run_config,
    _flow.c.environment,
    _flow_group.c.labels.label("group_labels"),
    _flow_group.c.run_config.label("group_run_config"),
    _flow_group.c.default_parameters.label("group_parameters"),
)
_FLOW_WITH_GROUP = _flow.join(_flow_group, _flow_group.c.id == _flow.c.flow_group_id, isouter=True)
_SELECT_FLOW_BY_ID = (
    sa.select(*_FLOW_COLUMNS)
    .select_from(_FLOW_WITH_GROUP)
    .where(_flow.c.id == sa.bindparam("b_id"))
)
_SELECT_NEWEST_FLOW_OF_GROUP = (
    sa.select(*_FLOW_COLUMNS)
    .select_from(_FLOW_WITH_GROUP)
    .where(_flow.c.version_group_id == sa.bindparam("b_group"), _flow.c.archived.is_(False))
    .order_by(_flow.c.version.desc().nulls_last(), _flow.c.created.desc())
    .limit(1)
)
_SELECT_IDEMPOTENT_RUN = sa.select(_flow_run.c.id).where(
    _flow_run.c.idempotency_key == sa.bindparam("b_key"),
    _flow_run.c.flow_id == sa.bindparam("b_flow_id"),
)
_INSERT_FLOW_RUN = sa.insert(_flow_run)
_INSERT_FLOW_RUN_STATE = sa.insert(models.flow_run_state)
_INSERT_TASK_RUNS = sa.insert(_task_run)
_INSERT_TASK_RUN_STATES = sa.insert(models.task_run_state)
_SELECT_FLOW_TASKS = sa.select(_task.c.id, _task.c.cache_key).where(
    _task.c.flow_id == sa.bindparam("b_flow_id")
)


def _labels_of(config: Any) -> Any:
    return config.get("labels") if isinstance(config, dict) else None


def _first_not_none(*values: Any) -> Any:
    for value in values:
        if value is not None:
            return value
    return None


def _run_parameters(
    flow_parameters: Any, group_parameters: Any, given: dict[str, Any] | None
) -> dict[str, Any]:
    if given is not None and not isinstance(given, dict):
        raise ServerError(
            f"Invalid parameters: expected an object of parameter names to values, "
            f"got {type(given).__name__}."
        )
    parameters: dict[str, Any] = {}
    required: set[str] = set()
    for parameter in flow_parameters or ():
        name = parameter.get("name") if isinstance(parameter, dict) else None
        if not isinstance(name, str):
            continue
        # 1.x quirk kept on purpose: falsy defaults (0, "", False, []) are not copied.
        if parameter.get("default"):
            parameters[name] = parameter["default"]
        if parameter.get("required"):
            required.add(name)
    if isinstance(group_parameters, dict):
        parameters.update(group_parameters)
    if given:
        parameters.update(given)
    missing = required - parameters.keys()
    if missing:
        raise ServerError(f"Required parameters were not supplied: {missing}")
    return parameters


async def create_flow_run(
    db: Database,
    *,
    flow_id: str | None = None,
    version_group_id: str | None = None,
    parameters: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    labels: list[str] | None = None,
    run_config: dict[str, Any] | None = None,
    scheduled_start_time: datetime.datetime | str | None = None,
    idempotency_key: str | None = None,
    flow_run_name: str | None = None,
    auto_scheduled: bool = False,
) -> str:
    """Create a flow run, its task runs and its first Scheduled state, in one transaction.

    Args:
        db: the database.
        flow_id: the flow to run; or
        version_group_id: run the newest unarchived flow of this version group.
        parameters: overlaid on the flow's defaults and the flow group's default parameters.
        context: the run's context (default `{}`).
        labels: the run's labels (default: from the run config, flow group or flow).
        run_config: the run config (default: the flow group's, else the flow's).
        scheduled_start_time: when to start (default now).
        idempotency_key: a second call with the same key for the same flow returns the first
            run's id and changes nothing.
        flow_run_name: the name (default a random `adjective-animal`).
        auto_scheduled: whether the scheduler created the run.

    Returns:
        the flow run id.

    Raises:
        ServerError: no flow given, unknown or archived flow, missing required parameters.
    """
    if flow_id is None and version_group_id is None:
        raise ServerError("A flow id or version group ID must be provided.")
    async with db.write() as conn:
        if flow_id is not None:
            flow = (
                (await conn.execute(_SELECT_FLOW_BY_ID, {"b_id": flow_id})).first()
                if _is_uuid(flow_id)
                else None
            )
            if flow is None:
                raise ServerError(f"Flow {flow_id} not found")
            if flow.archived:
                raise ServerError(f"Flow {flow_id} is archived.")
        else:
            flow = (
                await conn.execute(_SELECT_NEWEST_FLOW_OF_GROUP, {"b_group": version_group_id})
            ).first()
            if flow is None:
                raise ServerError(f"Version group {version_group_id} has no unarchived flows.")
        if idempotency_key is not None:
            existing = await _idempotent_run(conn, idempotency_key, flow.id)
            if existing is not None:
                return existing

        run_labels = _first_not_none(
            labels,
            _labels_of(run_config),
            flow.group_labels,
            _labels_of(flow.group_run_config),
            _labels_of(flow.run_config),
            _labels_of(flow.environment),
        )
        run_parameters = _run_parameters(flow.parameters, flow.group_parameters, parameters)
        start = _as_utc(scheduled_start_time)
        prepared = prepare_state(Scheduled(message="Flow run scheduled.", start_time=start))
        now = models.utcnow()
        flow_run_id = models.new_id()
        row = run_columns(prepared, now, 1, None, None)
        row.update(
            id=flow_run_id,
            created=now,
            tenant_id=flow.tenant_id,
            flow_id=flow.id,
            name=flow_run_name or generate_run_name(),
            parameters=run_parameters,
            context=context if context is not None else {},
            labels=sorted(run_labels or ()),
            run_config=_first_not_none(run_config, flow.group_run_config, flow.run_config),
            scheduled_start_time=start,
            auto_scheduled=bool(auto_scheduled),
            idempotency_key=idempotency_key,
            times_resurrected=0,
        )
        if idempotency_key is not None and db.dialect == "postgresql":
            # A concurrent request with the same key may commit first: the unique index then
            # refuses ours, and the savepoint keeps this transaction usable to read its id.
            try:
                async with conn.begin_nested():
                    await conn.execute(_INSERT_FLOW_RUN, row)
            except IntegrityError:
                existing = await _idempotent_run(conn, idempotency_key, flow.id)
                if existing is None:
                    raise
                return existing
        else:
            await conn.execute(_INSERT_FLOW_RUN, row)
        history = state_row(prepared, now, 1, flow.tenant_id)
        history["flow_run_id"] = flow_run_id
        await conn.execute(_INSERT_FLOW_RUN_STATE, history)
        await _create_task_runs(conn, flow_run_id, flow.id, flow.tenant_id, now)
    return flow_run_id


async def _idempotent_run(conn: AsyncConnection, key: str, flow_id: str) -> str | None:
    found = await conn.execute(_SELECT_IDEMPOTENT_RUN, {"b_key": key, "b_flow_id": flow_id})
    value = found.scalar()
    return None if value is None else str(value)


async def _create_task_runs(
    conn: AsyncConnection, flow_run_id: str, flow_id: str, tenant_id: str, now: datetime.datetime
) -> None:
    """One Pending task run (map_index -1) per task of the flow, each with its version-0 state."""
    tasks = (await conn.execute(_SELECT_FLOW_TASKS, {"b_flow_id": flow_id})).all()
    if not tasks:
        return
    runs = []
    states = []
    for task_id, cache_key in tasks:
        task_run_id = models.new_id()
        runs.append(
            {
                "id": task_run_id,
                "created": now,
                "updated": now,
                "tenant_id": tenant_id,
                "flow_run_id": flow_run_id,
                "task_id": task_id,
                "map_index": -1,
                "cache_key": cache_key,
                "version": 0,
                "state": "Pending",
                "serialized_state": _CREATED_TASK_RUN_STATE,
                "state_timestamp": now,
                "state_message": "Task run created",
            }
        )
        states.append(
            {
                "id": models.new_id(),
                "created": now,
                "updated": now,
                "tenant_id": tenant_id,
                "task_run_id": task_run_id,
                "timestamp": now,
                "state": "Pending",
                "message": "Task run created",
                "serialized_state": _CREATED_TASK_RUN_STATE,
                "version": 0,
            }
        )
    await conn.execute(_INSERT_TASK_RUNS, runs)
    await conn.execute(_INSERT_TASK_RUN_STATES, states)
