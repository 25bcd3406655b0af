"""The core task library: constants, functions, collections, operators and resource managers."""

from __future__ import annotations

import prefect.tasks.core.collections
import prefect.tasks.core.constants
import prefect.tasks.core.function
import prefect.tasks.core.operators
import prefect.tasks.core.resource_manager  # noqa: F401
