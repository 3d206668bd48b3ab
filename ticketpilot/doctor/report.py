"""The preflight's results: one :class:`Check` per line, a :class:`Report` for the whole run."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

PASS, FAIL = "✓", "✗"


@dataclass(frozen=True)
class Check:
    """One check: ``✓ name — detail`` or ``✗ name — detail — fix``. Never holds a secret."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        if self.ok:
            return f"{PASS} {self.name} — {self.detail}"
        return f"{FAIL} {self.name} — {self.detail}" + (f" — {self.fix}" if self.fix else "")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class CheckFailed(Exception):
    """Raised inside a check: what is wrong (``detail``) and what to do about it (``fix``)."""

    def __init__(self, detail: str, fix: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.fix = fix

    def __repr__(self) -> str:
        return f"CheckFailed(detail={self.detail!r}, fix={self.fix!r})"


@dataclass(frozen=True)
class Report:
    """Every check of one run, in a fixed order (local first, then each vendor)."""

    mode: str
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)

    def lines(self) -> list[str]:
        return [c.line() for c in self.checks]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "mode": self.mode,
            "failed": len(self.failed),
            "checks": [c.as_dict() for c in self.checks],
        }
