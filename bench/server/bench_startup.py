"""Time from starting `prefect server start` to its first answered `query{hello}`.

A fresh start uses a new home directory (an empty SQLite database: migrations run); a restart
starts again on the database the fresh start left (already at the newest revision). Each is
timed `--runs` times (default 3); the median is compared with the target (1.5 s).

    python bench/server/bench_startup.py [--runs 3] [--target-s 1.5] [--check]
"""

from __future__ import annotations

import argparse
import statistics
import sys

from _server import ServerProcess, free_port, fresh_home, print_table

TARGET_S = 1.5


def time_starts(runs: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(wall seconds, server CPU seconds) until the first answer, for fresh starts and restarts."""
    fresh: list[tuple[float, float]] = []
    restart: list[tuple[float, float]] = []
    for _ in range(runs):
        with fresh_home() as home:
            for timings in (fresh, restart):
                server = ServerProcess(home, free_port())
                try:
                    wall = server.wait_ready()
                    timings.append((wall, server.cpu_seconds()))
                finally:
                    code = server.stop()
                if code != 0:
                    raise RuntimeError(f"server exited with {code} on SIGINT: {server.log()}")
    return fresh, restart


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--target-s", type=float, default=TARGET_S)
    parser.add_argument("--check", action="store_true", help="exit 1 when a median misses")
    args = parser.parse_args()

    # One untimed start fills the OS file cache and writes .pyc files, as on a user's machine.
    time_starts(1)
    fresh, restart = time_starts(args.runs)
    rows = []
    ok = True
    for label, results in (("fresh start (new home)", fresh), ("restart (at head)", restart)):
        timings = [wall for wall, _ in results]
        median = statistics.median(timings)
        passed = median <= args.target_s
        ok = ok and passed
        rows.append(
            [
                label,
                f"{median:.2f}",
                f"{min(timings):.2f}",
                f"{max(timings):.2f}",
                f"{statistics.median(cpu for _, cpu in results):.2f}",
                f"<= {args.target_s}",
                "PASS" if passed else "FAIL",
            ]
        )
    print_table(["start", "median s", "min s", "max s", "server CPU s", "target", ""], rows)
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
