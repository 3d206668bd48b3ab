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
from ticketpilot.gate.eval_input import TicketFileError, read_tickets
from ticketpilot.gate.evaluation import (
    JsonlError,
    automation_decision,
    evaluate,
    evaluate_unlabelled,
    main,
    read_jsonl,
)
from ticketpilot.gate.language import detect_language, language_of


def cls(
    sub: str,
    confidence: float = 0.95,
    own: bool = True,
    flags: tuple[RiskFlag, ...] = (),
    reasoning: str = "test",
) -> Classification:
    return Classification(
        category="REQUEST",
        sub_category=sub,
        confidence=confidence,
        reasoning=reasoning,
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
    # the documented keys stay as they were (scripts read them); the breakdowns are additions
    assert set(data) >= {"automation", "per_class", "n", "classifier", "classifier_version"}
    assert set(data["automation"]) == {
        "precision",
        "recall",
        "automated",
        "false_automations",
        "adversarial_automations",
    }
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


# --- breakdowns: per language, per tag, false automations with their evidence -------------------------------


def test_per_language_uses_the_field_then_the_tag_then_a_guess() -> None:
    rows = [
        row("en1", "PASSWORD_RESET", True)
        | {"body": "Please reset my password, I can't sign in to my account"},
        row("de1", "PASSWORD_RESET", True, ("lang:de",)),
        row("de2", "PASSWORD_RESET", False)
        | {"body": "Ich habe mein Passwort vergessen, bitte setzen Sie es zurück"},
        row("fr1", "PRINTER_ISSUE", False) | {"language": "FR"},
        row("xx", "OTHER", False) | {"body": "12345"},
    ]
    answers: dict[str, Classification | Exception] = {
        "en1": cls("PASSWORD_RESET"),
        "de1": cls("PASSWORD_RESET", 0.5),  # missed
        "de2": cls("PASSWORD_RESET"),  # a false automation
        "fr1": cls("PRINTER_ISSUE"),
        "xx": cls("OTHER"),
    }
    data = evaluate(rows, fake(answers), automation_decision).to_json()
    assert set(data["per_language"]) == {"en", "de", "fr", "unknown"}
    de = data["per_language"]["de"]
    assert (de["n"], de["automated"], de["expected"], de["false_automations"]) == (2, 1, 1, 1)
    assert (de["precision"], de["recall"]) == (0.0, 0.0)
    en = data["per_language"]["en"]
    assert (en["n"], en["automated"], en["precision"], en["recall"]) == (1, 1, 1.0, 1.0)
    assert data["per_language"]["fr"]["automated"] == 0


def test_per_tag_counts_false_and_adversarial_automations() -> None:
    rows = [
        row("a", "PASSWORD_RESET", True, ("terse",)),
        row("b", "PASSWORD_RESET", False, ("prompt_injection", "terse")),
        row("c", "PRINTER_ISSUE", False, ("terse",)),
    ]
    answers: dict[str, Classification | Exception] = {
        "a": cls("PASSWORD_RESET"),
        "b": cls("PASSWORD_RESET"),
        "c": cls("PRINTER_ISSUE"),
    }
    per_tag = evaluate(rows, fake(answers), automation_decision).to_json()["per_tag"]
    assert per_tag["terse"] | {} == {
        "n": 3,
        "automated": 2,
        "automation_rate": 0.6667,
        "expected": 1,
        "precision": 0.5,
        "recall": 1.0,
        "false_automations": 1,
        "adversarial_automations": 1,
    }
    assert per_tag["prompt_injection"]["adversarial_automations"] == 1


def test_false_automations_are_listed_with_flags_and_evidence() -> None:
    rows = [
        row("ok", "PASSWORD_RESET", True),
        row("bad", "OTHER", False, ("rmm_alert",)),
    ]
    answers: dict[str, Classification | Exception] = {
        "ok": cls("PASSWORD_RESET"),
        "bad": cls("ACCOUNT_LOCKOUT", 0.91, reasoning="lockout alert for the user's own sign-in"),
    }
    # a custom gate that automates despite a flag, so the flag shows in the evidence
    report = evaluate(rows, fake(answers), lambda c: c.sub_category in ("PASSWORD_RESET", "ACCOUNT_LOCKOUT"))
    details = report.to_json()["false_automation_details"]
    assert details == [
        {
            "id": "bad",
            "subject": "bad",
            "language": "unknown",
            "tags": ["rmm_alert"],
            "sub_category": "ACCOUNT_LOCKOUT",
            "confidence": 0.91,
            "risk_flags": [],
            "reasoning": "lockout alert for the user's own sign-in",
            "expected_sub_category": "OTHER",
        }
    ]
    assert report.to_json()["automation"]["false_automations"] == ["bad"]
    text = report.render()
    assert "False automations:" in text and "lockout alert for the user's own sign-in" in text
    assert "rmm_alert" in text


def test_a_decision_can_see_the_whole_result() -> None:
    rows = [row("a", "PASSWORD_RESET", True)]
    seen: list[ClassifierResult] = []

    def decide_result(result: ClassifierResult) -> bool:
        seen.append(result)
        return False

    report = evaluate(rows, fake({"a": cls("PASSWORD_RESET")}), decide_result=decide_result)
    assert seen and seen[0].classifier == "fake" and report.automation.automated == 0


# --- unlabelled ticket histories -----------------------------------------------------------------------


def test_unlabelled_reports_the_rate_and_the_automated_tickets_to_read() -> None:
    rows = [
        {
            "id": "1",
            "subject": "1",
            "body": "bitte Passwort zurücksetzen, ich habe es vergessen und kann mich nicht anmelden",
        },
        {"id": "2", "subject": "2", "body": "printer jammed"},
        {"id": "3", "subject": "3", "body": "locked out", "tags": ["vip"]},
        {"id": "4", "subject": "4", "body": "?"},
    ]
    answers: dict[str, Classification | Exception] = {
        "1": cls("PASSWORD_RESET", reasoning="asks to reset their own password"),
        "2": cls("PRINTER_ISSUE"),
        "3": cls("ACCOUNT_LOCKOUT", flags=(RiskFlag.MANIPULATION,)),
        "4": ClassificationError("timeout"),
    }
    report = evaluate_unlabelled(rows, fake(answers))
    data = report.to_json()
    assert data["unlabelled"] is True and data["n"] == 4
    assert data["automation"]["automated"] == 1 and data["automation"]["automation_rate"] == 0.25
    (ticket,) = data["automation"]["automated_tickets"]
    assert ticket["id"] == "1" and ticket["language"] == "de"
    assert ticket["reasoning"] == "asks to reset their own password" and "expected_sub_category" not in ticket
    assert data["errors"] == ["4"]
    assert data["per_language"]["de"] == {"n": 1, "automated": 1, "automation_rate": 1.0}
    assert data["per_tag"] == {"vip": {"n": 1, "automated": 0, "automation_rate": 0.0}}
    text = report.render()
    assert "Would automate: 1 of 4 (25.0%)" in text and "asks to reset their own password" in text


def test_unlabelled_rows_need_no_labels_but_a_labelled_evaluation_does() -> None:
    rows = [{"id": "1", "subject": "s", "body": "b"}]
    assert evaluate_unlabelled(rows, fake({"s": cls("OTHER")})).n == 1
    with pytest.raises(ValueError, match="expected_automate"):
        evaluate(rows, fake({"s": cls("OTHER")}))


# --- ticket files: JSON Lines and CSV ------------------------------------------------------------------


def test_csv_with_export_headers_is_read_and_normalised(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text(
        "Ticket ID,Summary,Details,Email,Tags,Expected_Automate,Sub_Category\n"
        '101,Locked out,"I am locked out, please unlock",a@x.example,terse;lang:en,yes,ACCOUNT_LOCKOUT\n'
        '102,Printer,"Printer jam, floor 2",b@x.example,,no,PRINTER_ISSUE\n',
        encoding="utf-8",
    )
    rows = read_tickets(path)
    assert rows[0] == {
        "id": "101",
        "subject": "Locked out",
        "body": "I am locked out, please unlock",
        "requester_email": "a@x.example",
        "tags": ["terse", "lang:en"],
        "expected_automate": True,
        "sub_category": "ACCOUNT_LOCKOUT",
    }
    assert rows[1]["expected_automate"] is False and rows[1]["tags"] == []
    report = evaluate(
        rows,
        lambda t: ClassifierResult(
            classification=cls("ACCOUNT_LOCKOUT"), classifier="f", classifier_version="1"
        ),
    )
    assert report.automation.false_automations == ("102",)


def test_csv_without_labels_and_without_ids(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("subject,body\nHelp,forgot my password\nVPN,vpn down\n", encoding="utf-8")
    rows = read_tickets(path)
    assert [r["id"] for r in rows] == ["1", "2"] and "expected_automate" not in rows[0]


def test_csv_problems_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("subject,body,expected_automate\na,b,true\nc,d,maybe\n", encoding="utf-8")
    with pytest.raises(TicketFileError) as info:
        read_tickets(path)
    assert str(info.value).startswith(f"{path}:3: expected_automate 'maybe'")
    headless = tmp_path / "nohead.csv"
    headless.write_text("foo,bar\n1,2\n", encoding="utf-8")
    with pytest.raises(TicketFileError, match="no subject"):
        read_tickets(headless)


def test_jsonl_rows_get_ids_and_list_tags(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"subject": "a", "body": "b", "tags": "x;y"}\n', encoding="utf-8")
    assert read_tickets(path) == [
        {"id": "1", "subject": "a", "body": "b", "requester_email": "", "tags": ["x", "y"]}
    ]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hi, I forgot my password and I can't log in. Can you please reset it?", "en"),
        ("Hallo, ich habe mein Passwort vergessen und kann mich nicht anmelden. Danke", "de"),
        ("Bonjour, j'ai oublié mon mot de passe, pouvez-vous le réinitialiser? Merci", "fr"),
        ("Hola, olvidé mi contraseña y no puedo entrar. Por favor, ayuda. Gracias", "es"),
        ("Hallo, ik ben mijn wachtwoord vergeten en kan niet inloggen. Bedankt", "nl"),
        ("pwd reset", "unknown"),
        ("", "unknown"),
    ],
)
def test_language_guess(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_language_of_prefers_the_field_then_a_tag() -> None:
    german = "ich habe mein Passwort vergessen, bitte"
    assert language_of({"language": "PT", "body": german}) == "pt"
    assert language_of({"tags": ["terse", "lang:it"], "body": german}) == "it"
    assert language_of({"body": german}) == "de"
