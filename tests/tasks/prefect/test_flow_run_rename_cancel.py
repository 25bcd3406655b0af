"""`RenameFlowRun` and `CancelFlowRun` against the test server."""

from __future__ import annotations

import pytest

import prefect
from prefect import Flow
from prefect.backend import FlowRunView
from prefect.tasks.prefect import CancelFlowRun, RenameFlowRun


def test_rename_a_given_run_and_the_current_run(child):
    run_id = child.client.create_flow_run(flow_id=child.flow_id)
    with Flow("renamer") as flow:
        # `run` has no defaults (as in 1.4.1): a flow passes both arguments.
        RenameFlowRun()(flow_run_id=run_id, flow_run_name="renamed")
    assert flow.run().is_successful()
    assert FlowRunView.from_flow_run_id(run_id).name == "renamed"

    with prefect.context(flow_run_id=run_id):
        assert RenameFlowRun().run(flow_run_name="again") is True
    assert FlowRunView.from_flow_run_id(run_id).name == "again"


def test_rename_needs_an_id_and_a_name():
    with pytest.raises(ValueError, match="`flow_run_id` must be passed"):
        RenameFlowRun(flow_run_name="x").run()
    with pytest.raises(ValueError, match="flow_run_name"):
        RenameFlowRun(flow_run_id="x").run()


def test_cancel_a_run(child):
    run_id = child.client.create_flow_run(flow_id=child.flow_id)
    assert CancelFlowRun(flow_run_id=run_id).run() is True
    assert type(FlowRunView.from_flow_run_id(run_id).state).__name__ == "Cancelled"

    other = child.client.create_flow_run(flow_id=child.flow_id)
    with prefect.context(flow_run_id=other):
        assert CancelFlowRun().run() is True
    assert FlowRunView.from_flow_run_id(other).state.is_finished()


def test_cancel_needs_an_id():
    with pytest.raises(ValueError, match="Can't cancel a flow run without flow run ID."):
        CancelFlowRun().run()
