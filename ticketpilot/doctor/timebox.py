"""Run one check within its time box and turn its outcome into a :class:`Check`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import structlog

from ticketpilot.adapters.base import AdapterError
from ticketpilot.doctor.report import Check, CheckFailed

log = structlog.get_logger(__name__)

NETWORK_FIX = (
    "check the URL, DNS, the egress firewall and HTTPS_PROXY/NO_PROXY ([adapters] ca_bundle for a private CA)"
)


async def timed(name: str, check: Awaitable[str], timeout_s: float) -> Check:
    """``check`` returns the ✓ detail or raises :class:`CheckFailed`; anything else is a ✗ too (an unexpected
    error names its type only: exception texts may quote URLs that carry credentials)."""
    try:
        async with asyncio.timeout(timeout_s):
            detail = await check
    except CheckFailed as failed:
        return Check(name, False, failed.detail, failed.fix)
    except TimeoutError:
        return Check(name, False, f"no answer within {timeout_s:g} s", NETWORK_FIX)
    except AdapterError as exc:
        return Check(name, False, exc.message, NETWORK_FIX if exc.status is None else "")
    except Exception as exc:
        log.warning("doctor_check_error", check=name, error=type(exc).__name__)
        return Check(name, False, f"unexpected error ({type(exc).__name__})", "see the service log")
    return Check(name, True, detail)
