"""The server benchmarks are scripts (they start server processes), not pytest-benchmark modules:
keep `pytest bench/` from collecting them."""

collect_ignore_glob = ["*.py"]
