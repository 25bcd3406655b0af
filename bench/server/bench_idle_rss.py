"""Resident memory of an idle server (VmRSS from /proc), after start and after some traffic.

python bench/server/bench_idle_rss.py [--settle-s 2] [--target-mib 120] [--check]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from _server import Connection, print_table, running_server

TARGET_MIB = 120.0


async def _traffic(port: int, requests: int) -> None:
    conn = Connection(port)
    await conn.open()
    try:
        for _ in range(requests):
            await conn.graphql("query { hello }")
            await conn.graphql("query { tenant { id slug name } }")
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--settle-s", type=float, default=2.0)
    parser.add_argument("--target-mib", type=float, default=TARGET_MIB)
    parser.add_argument("--check", action="store_true", help="exit 1 above the target")
    args = parser.parse_args()

    with running_server() as server:
        time.sleep(args.settle_s)
        after_start = server.rss_mib()
        asyncio.run(_traffic(server.port, 200))
        time.sleep(args.settle_s)
        after_traffic = server.rss_mib()

    rows = [
        [
            label,
            f"{value:.1f}",
            f"< {args.target_mib:g}",
            "PASS" if value < args.target_mib else "FAIL",
        ]
        for label, value in (
            ("idle after start", after_start),
            ("idle after 400 requests", after_traffic),
        )
    ]
    print_table(["server", "RSS MiB", "target", ""], rows)
    ok = after_start < args.target_mib
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
