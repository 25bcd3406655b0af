"""A plain task run: the steps of `TaskRunner.run` that can change a fresh run of a task without
handlers, target, cache, log capture or loop count, done in one function.

`TaskRunner._runs_plainly` decides when a run is plain (any patched step, subclass, handler or
DEBUG logging takes every step); `TaskRunner._run_plainly` and the mapped children's shared runs
(`prefect.engine._plain_map`) prepare the context and call `run_plain` inside it. The steps that
would leave the state as it is are skipped, the others' work is done here, and whatever is not
plain (a trigger that does not pass, a task that raises, a failure to retry, a loop) goes
through the steps' own code, so the states, lines and context are those of the full path
(`tests/engine/test_plain_runs.py` compares both).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import prefect
from prefect.engine import signals
from prefect.engine.result import Result
from prefect.engine.runner import ENDRUN, _step_raised, log_info
from prefect.engine.state import Looped, State, Success
from prefect.utilities import executors
from prefect.utilities._copy import shallow_copy_is_plain

if TYPE_CHECKING:
    from prefect.core import Edge
    from prefect.engine.task_runner import TaskRunner

_RUN_TASK_WITH_TIMEOUT = executors.run_task_with_timeout
_STATE_INIT = State.__init__
MISSING: Any = object()
STARTING = "Task '%s': Starting task run..."
FINISHED = "Task '%s': Finished task run for task with final state: '%s'"


def checkpointing(context: dict[str, Any]) -> Any:
    """`flows.checkpointing` of the run's config (the context's, else `prefect.config`)."""
    config = context.get("config")
    flows = dict.get(config, "flows") if isinstance(config, dict) else None
    if isinstance(flows, dict) and "checkpointing" in flows:
        return dict.__getitem__(flows, "checkpointing")
    return prefect.config.flows.checkpointing


def makes_plain_success(result: Result) -> bool:
    """Whether a `Success` holding `result.from_value(value)` can be made by `new_success`:
    `State`'s and the result's constructors and copies are the plain ones."""
    cls = type(result)
    return (
        Success.__init__ is State.__init__  # type: ignore[misc]
        and State.__init__ is _STATE_INIT  # type: ignore[misc]
        and "__new__" not in Success.__dict__
        and cls.from_value is Result.from_value
        and cls.copy is Result.copy
        and shallow_copy_is_plain(cls)
        and "__new__" not in vars(cls)
    )


def new_success(result: Result, value: Any, tags: Any) -> State:
    """`Success(result=result.from_value(value), message="Task run succeeded.")` made in a
    context whose `task_tags` are `tags` (`MISSING`: none), when `makes_plain_success`."""
    values = result.__dict__.copy()
    values["location"] = None
    values["value"] = value
    new_result = object.__new__(type(result))
    new_result.__dict__ = values
    state = object.__new__(Success)
    state.__dict__ = {
        "message": "Task run succeeded.",
        "_result": new_result,
        "context": {} if tags is MISSING else {"tags": list(tags)},
        "cached_inputs": {},
    }
    return state


def run_plain(
    runner: TaskRunner,
    upstream_states: dict[Edge, State],
    trigger_input: Any,
    name: str,
    pending: State,
    running: State,
    plain_success: bool,
    store: dict[str, Any],
    loop_context: dict[str, Any] | None,
) -> State:
    """Run `runner`'s task from `pending` inside its run's context (entered by the caller),
    from the first INFO line to the last; return the final state.

    Args:
        runner: a runner whose run `TaskRunner._runs_plainly` accepted
        upstream_states: the upstream states, finished and not skipped where that matters
        trigger_input: what the task's trigger is called with
            (`trigger_states(upstream_states, trigger)`)
        name: the task run's full name (`task_full_name`)
        pending: the run's `Pending` state (made before the context was entered)
        running: a `Running("Starting task run.")` made in the context
        plain_success: `makes_plain_success(runner.result)`
        store: the values of the run's context (the thread's `prefect.context`)
        loop_context: the context a `LOOP` signal's next iteration starts from (`None`:
            a copy of `store`)
    """
    task = runner.task
    logger = runner.logger
    state = pending
    try:
        log_info(logger, STARTING, name)
        # Ready (pending), no start time, upstream finished and not skipped, nothing to load:
        # the first steps keep the state.
        task_inputs: dict[str, Result] = {}
        raw_inputs: dict[str, Any] = {}
        for edge, upstream_state in upstream_states.items():
            key = edge.key
            if key is not None:
                result = task_inputs[key] = upstream_state._result  # type: ignore[attr-defined]
                raw_inputs[key] = result.value
        if task.task_run_name:
            runner.set_task_run_name(task_inputs)
        # No target and no `cache_for`: the cache check keeps the pending state.
        # `check_task_trigger`:
        try:
            if not task.trigger(trigger_input):
                raise signals.TRIGGERFAIL(message="Trigger failed")
        except (signals.PrefectStateSignal, Exception) as exc:
            try:
                runner._trigger_raised(exc)
            except (ENDRUN, signals.PrefectStateSignal, Exception) as raised:
                step = type(runner).check_task_trigger.__wrapped__  # type: ignore[attr-defined]
                state = _step_raised(runner, step, state, raised)
        if state is not pending:
            raise ENDRUN(state)  # `set_task_to_running` on a state that is not pending
        # `get_task_run_state` from `Running`, with no handler to call and nothing logged at
        # DEBUG.
        try:
            run_with_timeout = executors.run_task_with_timeout
            if run_with_timeout is _RUN_TASK_WITH_TIMEOUT and task.timeout is None:
                value = task.run(**raw_inputs)  # type: ignore[func-returns-value]
            else:
                value = run_with_timeout(task, (), raw_inputs, logger)
        except BaseException as exc:
            try:
                state = runner._task_run_raised(exc, name, task_inputs)
            except (ENDRUN, signals.PrefectStateSignal, Exception) as raised:
                step = type(runner).get_task_run_state.__wrapped__  # type: ignore[attr-defined]
                state = _step_raised(runner, step, running, raised)
        else:
            if plain_success and (
                value is None or store.get("checkpointing") is not True or task.checkpoint is False
            ):
                # `_task_run_returned` with no result to write.
                state = new_success(runner.result, value, store.get("task_tags", MISSING))
            else:
                state = runner._task_run_returned(value, None, task_inputs)
        # `cache_result` without `cache_for`.
        state.cached_inputs = task_inputs
        if state.is_failed():
            state = runner.check_for_retry(state, inputs=task_inputs)
        elif isinstance(state, Looped):
            state = runner.check_task_is_looping(
                state,
                inputs=task_inputs,
                upstream_states=upstream_states,
                context=store.copy() if loop_context is None else loop_context,
            )
    except (ENDRUN, signals.PrefectStateSignal) as exc:
        state = exc.state
    except executors.RecursiveCall:
        raise
    except Exception as exc:
        state = runner._unexpected_error(exc, {"task_full_name": name}, log_final=False)
    log_info(logger, FINISHED, name, type(state).__name__)
    return state
