"""The demo flow, as a file `prefect register -p` can load: the same ETL flow as
`examples/demo_flow.py` (parameters, a map, a retried task, case/merge), with its results in the
Prefect home directory so the flow-run process of the agent can write them."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from demo_flow import build_flow  # noqa: E402

import prefect  # noqa: E402

flow, _shown = build_flow(os.path.join(os.path.expanduser(prefect.config.home_dir), "results"))
