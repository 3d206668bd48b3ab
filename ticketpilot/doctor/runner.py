"""Run every check for the configured mode, concurrently, each one in its own time box."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path

from ticketpilot.config import Settings
from ticketpilot.doctor import graph, halopsa, local, vendors
from ticketpilot.doctor.local import Connect
from ticketpilot.doctor.report import Check, Report
from ticketpilot.doctor.timebox import timed
from ticketpilot.playbooks.loader import validate_path

CHECK_TIMEOUT_S = 10.0
SANDBOX_VENDORS = ("halopsa", "graph", "mfa connector", "twilio", "teams")


async def run_doctor(settings: Settings, connect: Connect, *, timeout_s: float = CHECK_TIMEOUT_S) -> Report:
    """Check PostgreSQL, Redis, migrations, playbooks and (live mode) every integration, changing nothing.

    Vendor checks that need a token are left out when the token is refused (its line says why).
    """
    directory = settings.playbooks.dir
    loaded, problems = await asyncio.to_thread(validate_path, Path(directory))

    async def playbooks() -> str:
        return local.playbooks(directory, loaded, problems)

    async def one(name: str, check: Awaitable[str]) -> list[Check]:
        return [await timed(name, check, timeout_s)]

    groups: list[Awaitable[list[Check]]] = [
        one("postgresql", local.postgresql(connect)),
        one("migrations", local.migrations(connect)),
        one("redis", local.redis(settings)),
        one("playbooks", playbooks()),
    ]
    if settings.adapters.mode == "live":
        groups += [
            halopsa.check(settings, loaded, timeout_s),
            graph.check(settings, loaded, timeout_s),
            vendors.mfa(settings, timeout_s),
            vendors.twilio(settings, timeout_s),
            vendors.teams(settings, loaded, timeout_s),
        ]
    else:
        groups.append(_sandboxed())
    groups.append(vendors.llm(settings, timeout_s))  # the classifier calls it in sandbox mode too
    results = await asyncio.gather(*groups)
    return Report(settings.adapters.mode, tuple(check for group in results for check in group))


async def _sandboxed() -> list[Check]:
    return [Check(name, True, "sandbox (not checked)") for name in SANDBOX_VENDORS]
