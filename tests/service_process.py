"""The real service as a subprocess (``python main.py --config X serve``), for the process-level crash tests.

A :class:`ServiceProcess` owns a tmp config (its own port, database URL, fixed engine owner id, sandbox
ledger file, short sandbox delays), starts and restarts the process (optionally with
``TICKETPILOT_CRASH_AT``), waits for ``/readyz``, kills, pauses or stops it, calls the admin API with the
bearer token, and reads what it left behind: its logs (stdout + stderr of every run) and its sandbox
ledger file. :func:`fresh_database` / :func:`drop_database` give each scenario its own migrated database on
the real PostgreSQL (a copy of the session's template, like the ``db_url`` fixture).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg

from ticketpilot.adapters.sandbox.ledger import read_ledger_file

ROOT = Path(__file__).resolve().parents[1]
ADMIN_TOKEN = "process-test-admin-token-0123456789abcdef"
WEBHOOK_AUTH = aiohttp.BasicAuth("halo", "process-test-webhook-password")
TERMINAL = frozenset({"RESOLVED", "ESCALATED", "CANCELLED", "FAILED"})
LOCKOUT_TEXT = (
    "Locked out of my work account",
    "I typed my password wrong too many times and now my Microsoft 365 work account is locked. "
    "Please unlock my account so I can sign in to Outlook and Teams again.",
)
"""A clear own-account lockout naming the work system: the offline classifier gives it ACCOUNT_LOCKOUT with
confidence 1.0 (without the system named it says 0.55, below ``password_reset``'s 0.80)."""

SANDBOX_DELAYS: dict[str, Any] = {
    "mfa_approve_after_s": 0.2,
    "mfa_timeout_s": 1.0,
    "manager_approve_after_s": 0.3,
    "manager_sms_fallback_after_s": 2.0,
    "manager_timeout_s": 6.0,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


async def fresh_database(admin_url: str, template: str, prefix: str = "tp_proc") -> str:
    """A new database copied from the migrated ``template``; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await conn.close()
    return with_database(admin_url, name)


async def drop_database(admin_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def toml_text(sections: Mapping[str, Mapping[str, Any]]) -> str:
    """A flat TOML document (``[section]`` of scalar or list keys)."""
    lines: list[str] = []
    for section, keys in sections.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in keys.items())
        lines.append("")
    return "\n".join(lines)


def _merge(
    base: dict[str, dict[str, Any]], extra: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    merged = {section: dict(keys) for section, keys in base.items()}
    for section, keys in extra.items():
        merged.setdefault(section, {}).update(keys)
    return merged


@dataclass
class ServiceProcess:
    """One service identity (port, owner id, ledger file, logs) that can be started many times."""

    name: str
    workdir: Path
    db_url: str
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: asyncio.subprocess.Process | None = field(default=None, repr=False)
    runs: int = 0
    pids: list[int] = field(default_factory=list)
    """The OS pid of each run, in order (the ledger file's ``pid`` tells which run did what)."""

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        sections = _merge(
            {
                "http": {"host": "127.0.0.1", "port": self.port, "admin_token": ADMIN_TOKEN},
                "database": {"url": self.db_url, "pool_min": 1, "pool_max": 8},
                "adapters": {"mode": "sandbox"},
                "halopsa": {
                    "webhook_username": WEBHOOK_AUTH.login,
                    "webhook_password": WEBHOOK_AUTH.password,
                },
                "llm": {"api_key": ""},
                # No Redis: its webhook dedupe keys (24 h) would outlive a scenario and could swallow a later
                # run's fixed delivery ids; PostgreSQL's unique constraint is the durable dedupe anyway.
                "redis": {"url": ""},
                "playbooks": {"dir": str(ROOT / "playbooks"), "watch": False},
                "policy": {"cooldown_hours": 0, "rate_limit_per_hour": 100_000},
                "engine": {"owner_id": f"proc-{self.name}", "inbox_poll_s": 0.5, "outbox_poll_s": 0.5},
                "sandbox": {**SANDBOX_DELAYS, "ledger_path": str(self.ledger_path)},
                "logging": {"level": "INFO", "format": "json"},
            },
            self.overrides,
        )
        public = f"http://127.0.0.1:{self.port}"
        sections["http"].setdefault("public_url", public)
        self.config_path.write_text(toml_text(sections), encoding="utf-8")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.workdir / f"{self.name}.toml"

    @property
    def ledger_path(self) -> Path:
        return self.workdir / f"{self.name}.ledger.jsonl"

    def log_path(self, run: int) -> Path:
        return self.workdir / f"{self.name}.run{run}.log"

    # ---- lifecycle -------------------------------------------------------------------------------------

    async def start(self, *, crash_at: str | None = None, env: Mapping[str, str] | None = None) -> None:
        """Start a new run (stdout and stderr to ``<name>.run<N>.log``); does not wait for readiness.

        ``crash_at``: ``TICKETPILOT_CRASH_AT`` for this run; ``env``: extra ``TICKETPILOT_…`` overrides."""
        assert self.proc is None or self.proc.returncode is not None, "already running"
        self.runs += 1
        run_env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETPILOT_")}
        run_env["PYTHONUNBUFFERED"] = "1"
        run_env.update(env or {})
        if crash_at:
            run_env["TICKETPILOT_CRASH_AT"] = crash_at
        with self.log_path(self.runs).open("wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                str(ROOT / "main.py"),
                "--config",
                str(self.config_path),
                "serve",
                cwd=str(self.workdir),
                env=run_env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        self.pids.append(self.proc.pid)

    async def wait_ready(self, session: aiohttp.ClientSession, timeout: float = 45.0) -> None:
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            if self.exited:
                raise AssertionError(f"{self.name} exited early ({self.returncode}):\n{self.log_tail()}")
            try:
                async with session.get(f"{self.base_url}/readyz") as resp:
                    if resp.status == 200:
                        return
                    last = await resp.text()
            except aiohttp.ClientError as exc:
                last = exc
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} not ready in {timeout}s: {last}\n{self.log_tail()}")

    async def wait_exit(self, timeout: float) -> int:
        assert self.proc is not None
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"{self.name} still running after {timeout}s:\n{self.log_tail()}") from None

    async def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM (a clean shutdown); SIGKILL if it does not exit within ``timeout``."""
        if self.proc is None or self.proc.returncode is not None:
            return self.returncode
        self.proc.send_signal(signal.SIGCONT)  # a paused process could not handle SIGTERM
        self.proc.terminate()
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            return await self.kill()

    async def kill(self) -> int:
        """SIGKILL, no cleanup (a crash)."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.kill()
        return await self.proc.wait()

    def pause(self) -> None:
        assert self.proc is not None and self.proc.returncode is None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None and self.proc.returncode is None
        self.proc.send_signal(signal.SIGCONT)

    @property
    def exited(self) -> bool:
        return self.proc is not None and self.proc.returncode is not None

    @property
    def returncode(self) -> int:
        assert self.proc is not None and self.proc.returncode is not None
        return self.proc.returncode

    # ---- the admin API ----------------------------------------------------------------------------------

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    async def create_ticket(
        self,
        session: aiohttp.ClientSession,
        user_email: str,
        summary: str = LOCKOUT_TEXT[0],
        details: str = LOCKOUT_TEXT[1],
    ) -> int:
        """``POST /api/v1/sandbox/tickets``: a new sandbox ticket, delivered through the real intake."""
        payload = {"summary": summary, "details": details, "user_email": user_email}
        async with session.post(
            f"{self.base_url}/api/v1/sandbox/tickets", json=payload, headers=self.headers
        ) as resp:
            body = await resp.json()
            assert resp.status == 201, (resp.status, body)
            return int(body["ticket_id"])

    async def post_webhook(
        self, session: aiohttp.ClientSession, event: str, deliveries: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """``POST /webhooks/halopsa/{event}`` (Basic auth) with a batch of deliveries; the intake's answer.

        In sandbox mode a delivery carrying a full ``ticket`` object seeds the process's sandbox HaloPSA."""
        async with session.post(
            f"{self.base_url}/webhooks/halopsa/{event}", json=deliveries, auth=WEBHOOK_AUTH
        ) as resp:
            body = await resp.json()
            assert resp.status == 200, (resp.status, body)
            return dict(body)

    async def execution(self, session: aiohttp.ClientSession, ticket_id: int) -> dict[str, Any] | None:
        """``GET /api/v1/orchestration/execution/{ticket_id}``; None on 404 (no execution yet)."""
        async with session.get(
            f"{self.base_url}/api/v1/orchestration/execution/{ticket_id}", headers=self.headers
        ) as resp:
            if resp.status == 404:
                return None
            body = await resp.json()
            assert resp.status == 200, (resp.status, body)
            return dict(body)

    async def wait_execution(
        self,
        session: aiohttp.ClientSession,
        ticket_id: int,
        *,
        terminal: bool = True,
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        """Poll the API until the ticket has an execution (a terminal one, by default)."""
        deadline = time.monotonic() + timeout
        last: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            if self.exited:
                raise AssertionError(f"{self.name} exited ({self.returncode}):\n{self.log_tail()}")
            last = await self.execution(session, ticket_id)
            if last is not None and (not terminal or last["state"] in TERMINAL):
                return last
            await asyncio.sleep(0.1)
        raise AssertionError(f"ticket {ticket_id}: no {'terminal ' if terminal else ''}execution: {last}")

    # ---- what the process left behind -------------------------------------------------------------------

    def ledger(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Every sandbox ledger entry of every run (the file survives a SIGKILL)."""
        return [e for e in read_ledger_file(self.ledger_path) if kind is None or e["kind"] == kind]

    def logs(self) -> str:
        return "".join(
            self.log_path(run).read_text(encoding="utf-8", errors="replace")
            for run in range(1, self.runs + 1)
        )

    def log_tail(self, chars: int = 3000) -> str:
        return self.logs()[-chars:]


# ---- looking for credentials -------------------------------------------------------------------------------

_ESCAPES = re.compile(r"\\[nrt\"']")
_SIXTEEN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{16}(?![A-Za-z0-9])")
_NOT_A_TAP = re.compile(r"[A-Za-z][a-z]*|[A-Z]+|[0-9a-f]+|[0-9A-F]+")
"""A word, an all-capitals name, or hex (a hash, an id): a random TAP is one of these about once in 3e5."""


def tap_shaped(text: str) -> set[str]:
    """Words that look like a sandbox TAP: 16 letters and digits (``adapters/sandbox/directory.py``), that are
    neither an ordinary word nor hex.

    Escaped newlines and quotes (a ``repr`` or JSON string of the SMS body) are undone first, so a leaked
    body still shows its TAP as a word of its own.
    """
    plain = _ESCAPES.sub(" ", text)
    return {w for w in _SIXTEEN.findall(plain) if not _NOT_A_TAP.fullmatch(w)}


async def dump_all_tables(conn: asyncpg.Connection) -> str:
    """Every row of every table in the ``public`` schema, as JSON text (one line per row)."""
    tables = [
        r["tablename"]
        for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
    ]
    lines: list[str] = []
    for table in tables:
        rows = await conn.fetch(f'SELECT row_to_json(t)::text AS j FROM "{table}" t')
        lines.extend(f"{table}\t{r['j']}" for r in rows)
    return "\n".join(lines)


def credential_sms(entries: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Ledger SMS entries that carried a sandbox-issued credential (redacted in the ledger) and were sent (not a
    manager's approval SMS, whose reply code is redacted too)."""
    for e in entries:
        if (
            e["kind"] == "sms"
            and "[REDACTED]" in str(e.get("body", ""))
            and e.get("status") == "queued"
            and not str(e.get("idempotency_key", "")).endswith(":approval-sms")
        ):
            yield e


@contextlib.asynccontextmanager
async def api_session() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client for the services' APIs (10 s per request)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session
