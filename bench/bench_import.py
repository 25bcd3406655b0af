"""Wall time of ``python -c "import prefect"``, against the 200 ms budget.

Every agent-started flow run begins in a fresh process, so this is paid once per run. The script
starts one warm-up interpreter (to fill the OS file cache and write ``.pyc`` files), then times
``--runs`` more and prints min / median / max in milliseconds, next to a bare interpreter start
for reference. With ``--check`` it exits 1 when the median exceeds the target.

    python bench/bench_import.py [--runs 5] [--target-ms 200] [--check] [--importtime]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

TARGET_MS = 200.0


def time_command(code: str, runs: int, warmups: int) -> list[float]:
    """Milliseconds for each of ``runs`` executions of ``python -c code`` after the warm-ups."""
    command = [sys.executable, "-c", code]
    # Users run with cached bytecode; let the warm-up write it even if this shell disables that.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for _ in range(warmups):
        subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def summary(label: str, timings: list[float]) -> str:
    return (
        f"{label:<28} min {min(timings):7.1f} ms   median {statistics.median(timings):7.1f} ms"
        f"   max {max(timings):7.1f} ms   ({len(timings)} runs)"
    )


def import_times(code: str) -> dict[str, int]:
    """Cumulative microseconds per module imported by ``python -X importtime -c code``."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        check=True,
        capture_output=True,
        text=True,
    )
    times: dict[str, int] = {}
    for line in completed.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line[len("import time:") :].split("|"))
        times[name] = int(cumulative)
    return times


def slowest_imports(limit: int) -> list[tuple[int, str]]:
    """The modules ``import prefect`` adds, by cumulative time (interpreter start-up left out)."""
    startup = import_times("pass")
    rows = [(t, name) for name, t in import_times("import prefect").items() if name not in startup]
    return sorted(rows, reverse=True)[:limit]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs (default 5)")
    parser.add_argument("--warmups", type=int, default=1, help="untimed runs first (default 1)")
    parser.add_argument("--target-ms", type=float, default=TARGET_MS, help="budget for the median")
    parser.add_argument("--check", action="store_true", help="exit 1 if the median is over budget")
    parser.add_argument(
        "--importtime", action="store_true", help="also list the 15 slowest imports"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    baseline = time_command("pass", args.runs, args.warmups)
    timings = time_command("import prefect", args.runs, args.warmups)
    median = statistics.median(timings)

    print(summary("python -c pass", baseline))
    print(summary("python -c 'import prefect'", timings))
    print(
        f"{'import prefect alone':<28} ~{median - statistics.median(baseline):.1f} ms "
        f"(median difference)"
    )
    verdict = "OK" if median <= args.target_ms else "OVER BUDGET"
    print(f"target: median <= {args.target_ms:.0f} ms (whole command) -> {verdict}")

    if args.importtime:
        print("\nslowest imports (cumulative, microseconds):")
        for cumulative, name in slowest_imports(15):
            print(f"  {cumulative:9d}  {name}")

    if args.check and median > args.target_ms:
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
