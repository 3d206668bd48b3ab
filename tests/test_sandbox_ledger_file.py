"""``sandbox.ledger_path``: what the sandbox did is also appended to a file, one JSON line per entry, flushed
at once (so it survives a SIGKILL), never with a credential in it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ticketpilot.adapters.sandbox import SandboxLedger, build_sandbox_adapters, read_ledger_file
from ticketpilot.adapters.sandbox.people import phone_of
from ticketpilot.config import Settings


class NoClicks:
    async def follow_link(self, url: str) -> bool:
        raise AssertionError("no card is posted in this test")


async def test_every_entry_lands_in_the_file_at_once_and_no_credential_does(tmp_path: Path) -> None:
    path = tmp_path / "ledger" / "sandbox.jsonl"
    settings = Settings(sandbox={"ledger_path": str(path)})
    ledger = SandboxLedger()
    adapters = build_sandbox_adapters(settings, ledger, NoClicks())
    user = await adapters.directory.resolve_user(email="jane@x.example")
    tap = await adapters.directory.create_temporary_access_pass(
        user.id, lifetime_minutes=60, one_time=True, idempotency_key="e1:create_credential:1"
    )
    body = f"Your pass is:\n{tap}\nIt expires in 60 minutes."
    await adapters.sms.send(phone_of("jane@x.example"), body, idempotency_key="e1:deliver_sms:1")

    # Readable while the process still runs (flushed per entry, as a SIGKILL would leave it).
    lines = read_ledger_file(path)
    assert [line["kind"] for line in lines] == ["tap_issued", "sms"]
    assert {line["pid"] for line in lines} == {os.getpid()}
    assert [line["seq"] for line in lines] == [e.seq for e in ledger.entries()]
    tap_line, sms_line = lines
    assert tap_line["idempotency_key"] == "e1:create_credential:1"
    assert sms_line["body"] == "Your pass is:\n[REDACTED]\nIt expires in 60 minutes."
    assert sms_line["body_sha256"] == hashlib.sha256(body.encode()).hexdigest()
    assert tap not in path.read_text(encoding="utf-8")

    # A restarted process appends to what its predecessor wrote; the service's shutdown closes the file.
    await adapters.extras["aclose"]()
    ledger.record("mfa_push", result="approved")  # after close: memory only
    assert len(read_ledger_file(path)) == 2
    again = SandboxLedger(path=path)
    again.record("mfa_push", user_principal_name="jane@x.example", result="approved")
    again.close()
    assert [line["kind"] for line in read_ledger_file(path)] == ["tap_issued", "sms", "mfa_push"]


def test_a_torn_last_line_is_skipped_and_a_missing_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.jsonl"
    assert read_ledger_file(path) == []
    ledger = SandboxLedger(path=path)
    ledger.record("sms", to="+15550000001", body="hello")
    ledger.close()
    with path.open("a", encoding="utf-8") as f:
        f.write('{"pid": 1, "kind": "sm')  # killed in the middle of a write
    [entry] = read_ledger_file(path)
    assert (entry["kind"], entry["body"]) == ("sms", "hello")


def test_without_a_path_nothing_is_written(tmp_path: Path) -> None:
    ledger = SandboxLedger()
    ledger.record("sms", to="+15550000001", body="hello")
    assert ledger.path is None and list(tmp_path.iterdir()) == []


async def test_the_managers_approval_code_is_redacted_in_the_ledger_and_its_file(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.jsonl"
    ledger = SandboxLedger()
    adapters = build_sandbox_adapters(Settings(sandbox={"ledger_path": str(path)}), ledger, NoClicks())
    body = "TicketPilot: approve the request of Jane (ticket #7)? Reply YES 493817 to approve or NO 493817 to deny."
    await adapters.sms.send(
        phone_of("manager.jane@x.example"), body, idempotency_key="e1:verify:1:approval-sms"
    )
    [entry] = ledger.entries("sms")
    assert entry.data["body"] == (
        "TicketPilot: approve the request of Jane (ticket #7)? Reply YES [REDACTED] to approve or NO [REDACTED]"
        " to deny."
    )
    assert entry.data["body_sha256"] is None, "six digits are guessed from a hash of the body in no time"
    assert "493817" not in path.read_text(encoding="utf-8")
    await adapters.extras["aclose"]()
