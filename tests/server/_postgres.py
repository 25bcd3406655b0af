"""A throwaway PostgreSQL cluster for the server tests, on 127.0.0.1 and a free port.

`PREFECT_TEST_POSTGRES_URL` names an existing database instead (its tables are dropped and
re-created). Otherwise `initdb`/`pg_ctl` from Debian's packages (`/usr/lib/postgresql/*/bin`) run
as the `postgres` user when we are root (they refuse root), with fsync off: the cluster lives in a
temporary directory and is removed when the test session ends.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time


class PostgresUnavailable(RuntimeError):
    pass


def _bin_dir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    def __init__(self) -> None:
        bin_dir = _bin_dir()
        if bin_dir is None:
            raise PostgresUnavailable(
                "PostgreSQL is not installed (no initdb): apt-get install -y postgresql"
            )
        self.bin_dir = bin_dir
        self.dir = tempfile.mkdtemp(prefix="prefect-test-pg-")
        self.port = _free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self.data = os.path.join(self.dir, "data")

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise PostgresUnavailable(f"{' '.join(args)} failed: {done.stderr or done.stdout}")

    def start(self) -> str:
        self._run(
            os.path.join(self.bin_dir, "initdb"),
            "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        options = (
            f"-p {self.port} -h 127.0.0.1 -k {self.dir} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            os.path.join(self.bin_dir, "pg_ctl"), "-D", self.data, "-o", options,
            "-l", os.path.join(self.dir, "log"), "-w", "start",
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            done = subprocess.run(
                [os.path.join(self.bin_dir, "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                 "-U", "postgres", "prefect_test"],
                capture_output=True, text=True,
            )  # fmt: skip
            if done.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise PostgresUnavailable(f"createdb failed: {done.stderr}")
            time.sleep(0.2)
        return f"postgresql://postgres@127.0.0.1:{self.port}/prefect_test"

    def stop(self) -> None:
        try:
            self._run(
                os.path.join(self.bin_dir, "pg_ctl"), "-D", self.data, "-m", "immediate", "stop"
            )
        except PostgresUnavailable:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
