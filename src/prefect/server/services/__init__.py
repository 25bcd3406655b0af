"""The server's background services (protocol §7, "towel"): the scheduler, Lazarus and the
zombie killer, periodic asyncio loops on one base class (`loop.LoopService`) that act through
`prefect.server.api`.

`Services(db)` is what the app's lifespan starts and stops; it honours
`server.services.enabled` and each `server.services.<name>.enabled`.
"""

from __future__ import annotations

import asyncio
import logging

import prefect
from prefect.server.database.engine import Database
from prefect.server.services.lazarus import Lazarus
from prefect.server.services.loop import LoopService
from prefect.server.services.scheduler import Scheduler
from prefect.server.services.zombie_killer import ZombieKiller

__all__ = ["Lazarus", "LoopService", "Scheduler", "Services", "ZombieKiller"]

logger = logging.getLogger(__name__)

# Every service the server runs, in start order.
SERVICE_CLASSES: tuple[type[LoopService], ...] = (Scheduler, Lazarus, ZombieKiller)


class Services:
    """The set of background services of one server process.

    Args:
        db: the server's database, shared by every service.
        enabled: start the services (each still subject to its own `enabled` key); None
            follows `server.services.enabled`, read at `start()`.
    """

    def __init__(self, db: Database, *, enabled: bool | None = None) -> None:
        self.db = db
        self.enabled = enabled
        self.running: list[LoopService] = []

    def is_enabled(self) -> bool:
        """Whether the services run: the constructor's choice, else `server.services.enabled`
        (true when not configured)."""
        if self.enabled is not None:
            return self.enabled
        services = prefect.config.get("server", {}).get("services", {}) or {}
        return bool(services.get("enabled", True))

    async def start(self) -> None:
        """Start every enabled service as an asyncio task (no-op when already started)."""
        if self.running or not self.is_enabled():
            return
        for service_class in SERVICE_CLASSES:
            if not service_class.is_enabled():
                logger.info("%s is disabled in the configuration.", service_class.name)
                continue
            service = service_class(self.db)
            await service.start()
            self.running.append(service)

    async def stop(self) -> None:
        """Stop every running service and wait for them to end."""
        running, self.running = self.running, []
        if running:
            await asyncio.gather(*(service.stop() for service in running))
