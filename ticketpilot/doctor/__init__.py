"""``python main.py doctor`` and ``GET /api/v1/doctor``: a read-only preflight of every configured integration.

One :class:`Check` per line (``✓ name — detail`` or ``✗ name — what is wrong — the fix``); nothing is changed
anywhere (no ticket written, no card posted, no SMS, no migration) and no secret is ever part of a result.
"""

from ticketpilot.doctor.local import Connect, dsn_connector, pool_connector
from ticketpilot.doctor.report import Check, CheckFailed, Report
from ticketpilot.doctor.runner import CHECK_TIMEOUT_S, run_doctor

__all__ = [
    "CHECK_TIMEOUT_S",
    "Check",
    "CheckFailed",
    "Connect",
    "Report",
    "dsn_connector",
    "pool_connector",
    "run_doctor",
]
