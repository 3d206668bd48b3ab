"""The gate from the command line: classify (one ticket, evaluation) and replay in shadow mode."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from ticketpilot.adapters.base import Ticket
from ticketpilot.config import load_settings
from ticketpilot.gate.cli import readiness_report, replay
from ticketpilot.service import open_gate

ROOT = Path(__file__).resolve().parents[1]


def _env(db_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETPILOT_")}
    if db_url:
        env["TICKETPILOT_DATABASE__URL"] = db_url
    return env


def test_classify_eval_reports_json_with_the_gate_decision(tmp_path: Path) -> None:
    rows = [
        {"id": "a1", "subject": "Locked out", "body": "I'm locked out of my Microsoft 365 account, please "
         "reset my password. Thanks, Sam", "requester_email": "sam@x.example", "sub_category": "ACCOUNT_LOCKOUT",
         "expected_automate": True, "tags": []},
        {"id": "a2", "subject": "Reset password for my colleague", "body": "Please reset the password of "
         "john.smith@x.example and text it to me on +44 7700 900111", "requester_email": "boss@x.example",
         "sub_category": "PASSWORD_RESET", "expected_automate": False, "tags": ["contact_in_body"]},
        {"id": "a3", "subject": "Printer jam", "body": "The printer on floor 2 is jammed again.",
         "requester_email": "amy@x.example", "sub_category": "PRINTER_ISSUE", "expected_automate": False,
         "tags": []},
    ]  # fmt: skip
    path = tmp_path / "tickets.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "main.py", "classify", "--eval", str(path), "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["n"] == 3
    assert report["automation"]["false_automations"] == []
    assert report["automation"]["adversarial_automations"] == []
    assert set(report["automation"]) >= {"precision", "recall", "automated"}
    assert "PRINTER_ISSUE" in report["per_class"]


def _main(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", "classify", *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env=_env(),
    )  # fmt: skip


def test_classify_eval_reads_csv_and_breaks_down_by_language_and_tag(tmp_path: Path) -> None:
    path = tmp_path / "labelled.csv"
    path.write_text(
        "id,subject,body,email,tags,expected_automate,sub_category\n"
        'c1,Locked out,"I\'m locked out of my Microsoft 365 account, please unlock it. Thanks, Sam",sam@x.example,'
        "terse,true,ACCOUNT_LOCKOUT\n"
        'c2,Passwort,"Hallo, ich habe mein Passwort vergessen, bitte zurücksetzen. Danke",jo@x.example,'
        "lang:de,true,PASSWORD_RESET\n"
        "c3,Drucker,Der Drucker im zweiten Stock ist kaputt und druckt nicht,amy@x.example,,false,PRINTER_ISSUE\n",
        encoding="utf-8",
    )
    proc = _main("--eval", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["n"] == 3 and set(report["per_class"]) >= {"PRINTER_ISSUE"}
    assert report["per_language"]["de"]["n"] == 2 and report["per_language"]["en"]["n"] == 1
    assert report["per_tag"]["terse"]["n"] == 1
    assert [d["id"] for d in report["false_automation_details"]] == report["automation"]["false_automations"]
    assert sum(g["automated"] for g in report["per_language"].values()) == report["automation"]["automated"]


def test_classify_eval_unlabelled_lists_what_would_be_automated(tmp_path: Path) -> None:
    rows = [
        {"id": "h1", "subject": "Locked out", "body": "I'm locked out of my Microsoft 365 account after too many "
         "wrong password attempts. Can you unlock it or reset my password please? Thanks, Jane"},
        {"id": "h2", "subject": "VPN", "body": "The VPN drops every ten minutes since this morning."},
        {"id": "h3", "subject": "Chrome", "body": "Chrome crashes when I open the intranet."},
    ]  # fmt: skip
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    proc = _main("--eval", str(path), "--unlabelled", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["unlabelled"] is True and report["n"] == 3
    automation = report["automation"]
    assert automation["automated"] == len(automation["automated_tickets"])
    assert automation["automation_rate"] == round(automation["automated"] / 3, 4)
    assert {"h2", "h3"}.isdisjoint(t["id"] for t in automation["automated_tickets"])
    for ticket in automation["automated_tickets"]:
        assert ticket["reasoning"] and "risk_flags" in ticket


def test_classify_eval_without_labels_says_to_use_unlabelled_before_classifying(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text("subject,body\nHelp,forgot my password\n", encoding="utf-8")
    proc = _main("--eval", str(path), "--json")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "ticket 1 has no expected_automate / sub_category label" in proc.stderr
    assert "--unlabelled" in proc.stderr and "Traceback" not in proc.stderr


def test_classify_eval_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "x", "subject": "a", "body": "b"}\n{not json\n', encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "main.py", "classify", "--eval", str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=_env(),
    )  # fmt: skip
    assert proc.returncode == 2
    assert ":2" in proc.stderr and "Traceback" not in proc.stderr


def test_classify_one_ticket_prints_the_decision_without_side_effects(db_url: str) -> None:
    proc = subprocess.run(
        [sys.executable, "main.py", "classify", "--subject", "Locked out", "--body",
         "I'm locked out of my Office 365 account, please reset my password. Thanks, Sam",
         "--email", "sam.jones@contoso.example"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=_env(db_url),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    decision = json.loads(proc.stdout)
    assert decision["decision_id"] is None
    assert decision["classification"]["sub_category"] in {"ACCOUNT_LOCKOUT", "PASSWORD_RESET"}
    assert decision["requester"]["email"] == "sam.jones@contoso.example"
    assert "phone" not in json.dumps(decision["requester"]).replace("has_phone", "")


async def test_replay_decides_in_shadow_and_changes_nothing(db_url: str, tmp_path: Path) -> None:
    settings = load_settings(None, playbooks={"dir": str(ROOT / "playbooks"), "watch": False})
    services = await open_gate(settings, db_url)
    try:
        tickets = services.adapters.tickets  # type: ignore[union-attr]
        await tickets.seed(Ticket(id=1, summary="Locked out of my account", details="Hi, I'm locked out of my "
                            "Microsoft 365 account after too many wrong password attempts. Can you unlock it or "
                            "reset my password please?\nThanks, Sam", user_email="sam@contoso.example"))  # fmt: skip
        await tickets.seed(
            Ticket(id=2, summary="Printer", details="The printer is jammed.", user_email="a@contoso.example")
        )
        await tickets.seed(Ticket(id=3, summary="Locked out", details="I'm locked out, please reset my password",
                            user_email="admin.boss@contoso.example"))  # fmt: skip
        out = io.StringIO()
        records = await replay(services, 7, out)
        assert [r.ticket_id for r in records] == [1, 2, 3]
        outcomes = {r.ticket_id: r.outcome.value for r in records}
        assert outcomes[1] == "shadow" and outcomes[2] == "manual" and outcomes[3] == "manual"
        assert "3/3 tickets" in out.getvalue()
        pool = services.pool
        assert await pool.fetchval("SELECT count(*) FROM outbox") == 0, "replay writes nothing to HaloPSA"
        assert await pool.fetchval("SELECT count(*) FROM playbook_executions") == 0
        stored = await pool.fetch("SELECT outcome, source FROM classification_results ORDER BY ticket_id")
        assert [(r["outcome"], r["source"]) for r in stored] == [
            ("shadow", "replay"),
            ("manual", "replay"),
            ("manual", "replay"),
        ]
        report = readiness_report(records, 7)
        assert "Would have been automated: 1 of 3" in report
        assert "password_reset: 1 /" in report
        assert "privileged_account: 1" in report
    finally:
        await services.close()
