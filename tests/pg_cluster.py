"""A throwaway PostgreSQL cluster that a test owns: created, started, stopped and restarted by the test.

For the database-loss tests: the suite's shared server must never be restarted, so a test that needs a real
server restart creates its own cluster (``initdb`` into a temporary folder, the binaries that ship with the
``pgserver`` package the embedded default uses, so no system PostgreSQL is needed) and listens on a fixed
loopback port, so the service's URL stays the same across restarts — as it does across a restart or a
failover behind a stable address in production. As root, the server runs as the embedded server's
dedicated OS user, like :class:`ticketpilot.database.EmbeddedPostgres`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _binaries() -> Path:
    try:
        from pgserver._commands import POSTGRES_BIN_PATH
    except ImportError:  # pragma: no cover - pgserver is a dependency on 3.11
        found = shutil.which("pg_ctl")
        if found is None:
            pytest.skip("no PostgreSQL binaries to create a throwaway cluster (pgserver or pg_ctl)")
        return Path(found).resolve().parent
    return Path(POSTGRES_BIN_PATH)


@dataclass
class ThrowawayCluster:
    """``start()`` / ``stop()`` / ``restart()`` a private PostgreSQL on ``127.0.0.1:port``; ``remove()``."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="tp-cluster-")))
    port: int = field(default_factory=_free_port)
    _user: str | None = None
    _bin: Path = field(default_factory=_binaries)

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, Any] = {}
        if self._user is not None:
            kwargs["user"] = self._user
        with tempfile.TemporaryFile("w+") as out:
            # Files, not pipes: pg_ctl's server keeps inherited pipes open and would hang the call.
            result = subprocess.run(
                [str(self._bin / args[0]), *args[1:]],
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                **kwargs,
            )
            out.seek(0)
            output = out.read()
        if check and result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({result.returncode}): {output}")
        return subprocess.CompletedProcess(result.args, result.returncode, output, "")

    def create(self) -> ThrowawayCluster:
        os.chmod(self.root, 0o755)
        self.datadir.mkdir()
        if os.geteuid() == 0:  # initdb refuses root: run as the embedded server's own user
            from pgserver.utils import ensure_prefix_permissions, ensure_user_exists

            entry = ensure_user_exists("pgserver")
            assert entry is not None
            ensure_prefix_permissions(self.datadir)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            os.chown(self.datadir, entry.pw_uid, entry.pw_gid)
            self._user = entry.pw_name
        self._run("initdb", "-D", str(self.datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = ''\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 100\n"
            )
        return self

    def start(self, timeout_s: float = 60.0) -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-l", str(self.root / "server.log"), "-w", "start")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"throwaway PostgreSQL did not listen on {self.port}")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: every session is disconnected at once (what a restart or failover looks like)."""
        self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "stop", check=False)

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
