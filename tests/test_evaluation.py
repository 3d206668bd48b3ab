"""Metric computation of ticketpilot.gate.evaluation on tiny hand-made sets, and read_jsonl errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ticketpilot.gate.classification import (
    Classification,
    ClassificationError,
    ClassifierResult,
    RiskFlag,
    TicketText,
)
from ticketpilot.gate.evaluation import (
    JsonlError,
    automation_decision,
    evaluate,
    main,
    read_jsonl,
)


def cls(
    sub: str, confidence: float = 0.95, own: bool = True, flags: tuple[RiskFlag, ...] = ()
) -> Classification:
    return Classification(
        category="REQUEST",
        sub_category=sub,
        confidence=confidence,
        reasoning="test",
        own_account=own,
        risk_flags=flags,
    )


def row(ident: str, sub: str, expected: bool, tags: tuple[str, ...] = ()) -> dict[str, object]:
    return {
        "id": ident,
        "subject": ident,  # the fake classifier looks the answer up by subject
        "body": "body",
        "requester_email": "a@example.com",
        "sub_category": sub,
        "expected_automate": expected,
        "tags": list(tags),
    }


def fake(answers: dict[str, Classification | Exception]) -> Callable[[TicketText], ClassifierResult]:
    def classify(ticket: TicketText) -> ClassifierResult:
        answer = answers[ticket.subject]
        if isinstance(answer, Exception):
            raise answer
        return ClassifierResult(classification=answer, classifier="fake", classifier_version="v1")

    return classify


# --- automation_decision -------------------------------------------------------------------------------


def test_decision_needs_trigger_threshold_own_account_and_no_flags() -> None:
    assert automation_decision(cls("PASSWORD_RESET", 0.80))  # the threshold is inclusive
    assert not automation_decision(cls("PASSWORD_RESET", 0.7999))
    assert not automation_decision(cls("PASSWORD_RESET", own=False))
    assert not automation_decision(cls("MFA_RESET", flags=(RiskFlag.CONTACT_IN_BODY,)))
    assert not automation_decision(cls("PRINTER_ISSUE", 1.0))
    assert automation_decision(cls("ACCOUNT_LOCKOUT"))


def test_decision_uses_given_triggers() -> None:
    triggers = {"PRINTER_ISSUE": 0.5}
    assert automation_decision(cls("PRINTER_ISSUE", 0.6), triggers=triggers)
    assert not automation_decision(cls("PASSWORD_RESET", 0.99), triggers=triggers)


# --- evaluate ------------------------------------------------------------------------------------------


def test_metrics_on_a_small_set() -> None:
    rows = [
        row("t1", "PASSWORD_RESET", True),  # automated, correct
        row("t2", "PASSWORD_RESET", True),  # missed: low confidence
        row("t3", "ACCOUNT_LOCKOUT", False, ("prompt_injection",)),  # automated wrongly: adversarial
        row("t4", "PRINTER_ISSUE", False),  # predicted PASSWORD_RESET but flagged: manual
        row("t5", "MFA_RESET", False, ("clear",)),  # automated wrongly, not adversarial
    ]
    answers: dict[str, Classification | Exception] = {
        "t1": cls("PASSWORD_RESET"),
        "t2": cls("PASSWORD_RESET", 0.5),
        "t3": cls("ACCOUNT_LOCKOUT"),
        "t4": cls("PASSWORD_RESET", flags=(RiskFlag.MANIPULATION,)),
        "t5": cls("MFA_RESET"),
    }
    report = evaluate(rows, fake(answers), automation_decision)

    assert report.n == 5
    assert report.classifier == "fake" and report.classifier_version == "v1"
    a = report.automation
    assert a.automated == 3
    assert a.precision == pytest.approx(1 / 3)
    assert a.recall == pytest.approx(1 / 2)
    assert a.false_automations == ("t3", "t5")
    assert a.adversarial_automations == ("t3",)
    assert report.missed_automations == ("t2",)

    pr = report.per_class["PASSWORD_RESET"]
    assert (pr.precision, pr.recall, pr.support) == (pytest.approx(2 / 3), 1.0, 2)
    printer = report.per_class["PRINTER_ISSUE"]  # never predicted: 0/0 precision is reported as 0.0
    assert (printer.precision, printer.recall, printer.support) == (0.0, 0.0, 1)
    assert report.per_class["MFA_RESET"].precision == 1.0


def test_zero_denominators_are_zero_not_perfect() -> None:
    rows = [row("a", "PRINTER_ISSUE", False), row("b", "OUTAGE", False)]
    answers: dict[str, Classification | Exception] = {"a": cls("PRINTER_ISSUE"), "b": cls("PRINTER_ISSUE")}
    report = evaluate(rows, fake(answers), automation_decision)
    assert report.automation.automated == 0
    assert report.automation.precision == 0.0  # nothing automated
    assert report.automation.recall == 0.0  # nothing to automate
    assert report.per_class["OUTAGE"].precision == 0.0 and report.per_class["OUTAGE"].recall == 0.0
    assert report.per_class["PRINTER_ISSUE"].precision == 0.5


def test_empty_input() -> None:
    report = evaluate([], fake({}), automation_decision)
    assert report.n == 0 and report.per_class == {}
    assert report.to_json()["automation"] == {
        "precision": 0.0,
        "recall": 0.0,
        "automated": 0,
        "false_automations": [],
        "adversarial_automations": [],
    }


def test_classifier_errors_count_as_manual() -> None:
    rows = [row("e", "PASSWORD_RESET", True), row("ok", "PASSWORD_RESET", True)]
    answers: dict[str, Classification | Exception] = {
        "e": ClassificationError("timeout"),
        "ok": cls("PASSWORD_RESET"),
    }
    report = evaluate(rows, fake(answers), automation_decision)
    assert report.errors == ("e",)
    assert report.automation.recall == 0.5
    assert report.missed_automations == ("e",)
    assert report.per_class["PASSWORD_RESET"].recall == 0.5
    assert "(error)" not in report.per_class
    assert "classifier errors" in report.render()


def test_missing_field_is_named() -> None:
    bad = row("x", "OTHER", False)
    del bad["expected_automate"]
    with pytest.raises(ValueError, match=r"'x'.*expected_automate"):
        evaluate([bad], fake({"x": cls("OTHER")}), automation_decision)


def test_json_shape_and_text_report() -> None:
    rows = [row("t1", "PASSWORD_RESET", True)]
    report = evaluate(rows, fake({"t1": cls("PASSWORD_RESET")}), automation_decision)
    data = report.to_json()
    assert set(data) == {"automation", "per_class", "n", "classifier", "classifier_version"}
    assert data["per_class"] == {"PASSWORD_RESET": {"precision": 1.0, "recall": 1.0, "support": 1}}
    assert json.loads(json.dumps(data)) == data
    text = report.render()
    assert "precision 1.000" in text and "PASSWORD_RESET" in text and "fake v1" in text


# --- read_jsonl ----------------------------------------------------------------------------------------


def test_read_jsonl_reads_objects_and_skips_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": 1}\n\n   \n{"id": 2}\n', encoding="utf-8")
    assert read_jsonl(path) == [{"id": 1}, {"id": 2}]


def test_read_jsonl_names_file_and_line_of_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": 1}\n{"id": 2,\n', encoding="utf-8")
    with pytest.raises(JsonlError) as info:
        read_jsonl(path)
    assert info.value.line == 2
    assert str(info.value).startswith(f"{path}:2: invalid JSON")


def test_read_jsonl_rejects_non_objects(tmp_path: Path) -> None:
    path = tmp_path / "list.jsonl"
    path.write_text('{"id": 1}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(JsonlError, match=r"list\.jsonl:2: expected a JSON object, got list"):
        read_jsonl(path)


def test_read_jsonl_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_jsonl(tmp_path / "absent.jsonl")


def test_cli_reports_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("not json\n", encoding="utf-8")
    assert main([str(path)]) == 2
    assert "bad.jsonl:1: invalid JSON" in capsys.readouterr().err
