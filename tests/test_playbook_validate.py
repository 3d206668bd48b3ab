"""Playbook validation: the shipped playbooks load, and every kind of mistake is reported with its line."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from ticketpilot.playbooks.loader import cli_validate, content_hash, validate_path
from ticketpilot.playbooks.model import SERVICES
from ticketpilot.playbooks.validate import PlaybookInvalid, Problem, validate_text

ROOT = Path(__file__).resolve().parents[1]
PLAYBOOKS = ROOT / "playbooks"
CORPUS = Path(__file__).parent / "playbook_corpus"
_EXPECT = re.compile(r"^# expect: (\d+): (.+)$")


def _expectations(path: Path) -> list[tuple[int, str]]:
    """``# expect: LINE: text`` comments at the top of a corpus file."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _EXPECT.match(line)
        if match:
            found.append((int(match.group(1)), match.group(2)))
    return found


CORPUS_FILES = sorted(CORPUS.glob("*.yml"))


def test_the_corpus_covers_every_problem_kind() -> None:
    names = {p.stem for p in CORPUS_FILES}
    assert {
        "yaml_syntax",
        "duplicate_key",
        "unknown_key",
        "wrong_type",
        "unknown_service",
        "undefined_transition",
        "undefined_timeout_transition",
        "unreachable_step",
        "no_terminal",
        "duplicate_step_id",
        "bad_timeout",
        "bad_retry_duration",
        "unbounded_retry",
        "missing_transition",
        "terminal_with_service",
        "neither_service_nor_terminal",
        "several_problems",
    } <= names
    assert all(_expectations(p) for p in CORPUS_FILES), "every corpus file states what it expects"


@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.stem for p in CORPUS_FILES])
def test_corpus_file_reports_exactly_its_problems_with_lines(path: Path) -> None:
    loaded, problems = validate_path(path)
    assert loaded == []
    got = sorted((p.line, p.message) for p in problems)
    expected = sorted(_expectations(path))
    assert len(got) == len(expected), "\n".join(str(p) for p in problems)
    for (line, message), (want_line, want_text) in zip(got, expected, strict=True):
        assert line == want_line, f"{message!r} reported on line {line}, expected {want_line}"
        assert want_text in message
    assert {p.file for p in problems} == {str(path)}


def test_several_problems_are_all_reported_in_one_run() -> None:
    _, problems = validate_path(CORPUS / "several_problems.yml")
    assert len(problems) == 8
    assert len({p.line for p in problems}) == 7
    assert all(p.playbook_id == "several_problems" for p in problems)


def test_shipped_playbooks_load_as_written() -> None:
    loaded, problems = validate_path(PLAYBOOKS)
    assert problems == []
    by_id = {lp.playbook_id: lp for lp in loaded}
    assert set(by_id) == {"password_reset", "mfa_reset"}
    reset = by_id["password_reset"].playbook
    assert reset.triggers.sub_categories == ("PASSWORD_RESET", "ACCOUNT_LOCKOUT")
    assert reset.first_step.id == "verify_mfa"
    assert reset.step("create_credential").retry is not None
    assert reset.step("verify_manager").timeout == 1800.0
    assert {s.service for s in reset.steps if s.service} <= SERVICES
    assert by_id["mfa_reset"].mode == "shadow"
    text = (PLAYBOOKS / "password_reset.yml").read_text(encoding="utf-8")
    assert by_id["password_reset"].content_hash == content_hash(text)
    assert len(by_id["password_reset"].content_hash) == 64


def test_cli_prints_a_summary_and_succeeds_for_valid_playbooks() -> None:
    out = io.StringIO()
    assert cli_validate(PLAYBOOKS, out=out) == 0
    assert out.getvalue() == "2 playbooks valid: mfa_reset 1.0.0, password_reset 1.0.0\n"


def test_cli_prints_file_line_message_per_problem_and_fails(tmp_path: Path) -> None:
    (tmp_path / "good.yml").write_text((PLAYBOOKS / "mfa_reset.yml").read_text(encoding="utf-8"))
    bad = tmp_path / "bad.yml"
    bad.write_text((CORPUS / "unknown_service.yml").read_text(encoding="utf-8"))
    out = io.StringIO()
    assert cli_validate(tmp_path, out=out) == 1
    assert out.getvalue().splitlines() == [
        f"{bad}:10: step 'deliver': unknown service 'delivery.fax' (did you mean 'delivery.email'?)"
    ]


def test_problem_renders_as_file_line_message() -> None:
    problem = Problem("playbooks/x.yml", 7, "unknown key 'foo'", "x")
    assert str(problem) == "playbooks/x.yml:7: unknown key 'foo'"
    assert problem.as_dict() == {
        "file": "playbooks/x.yml",
        "line": 7,
        "message": "unknown key 'foo'",
        "playbook_id": "x",
    }
    err = PlaybookInvalid([problem, Problem("playbooks/x.yml", 9, "other")])
    assert "x.yml:7" in str(err) and "+1 more" in str(err)
    assert "unknown key 'foo'" in repr(err)


def test_same_playbook_id_in_two_files_is_a_problem_on_the_second(tmp_path: Path) -> None:
    text = (PLAYBOOKS / "mfa_reset.yml").read_text(encoding="utf-8")
    (tmp_path / "a.yml").write_text(text)
    (tmp_path / "b.yml").write_text(text.replace('version: "1.0.0"', 'version: "2.0.0"'))
    loaded, problems = validate_path(tmp_path)
    assert [lp.file_path for lp in loaded] == [tmp_path / "a.yml"]
    assert [(p.file, p.line) for p in problems] == [(str(tmp_path / "b.yml"), 4)]
    assert "already defined in" in problems[0].message


def test_missing_path_and_empty_folder_are_problems(tmp_path: Path) -> None:
    assert validate_path(tmp_path / "nope.yml")[1][0].message == "no such file or folder"
    _, problems = validate_path(tmp_path)
    assert "no playbook files" in problems[0].message


def test_editor_temporary_files_are_not_playbooks(tmp_path: Path) -> None:
    (tmp_path / "mfa_reset.yml").write_text((PLAYBOOKS / "mfa_reset.yml").read_text(encoding="utf-8"))
    (tmp_path / ".mfa_reset.yml.swp").write_text("not: [yaml")
    (tmp_path / ".#mfa_reset.yml").write_text("not: [yaml")
    (tmp_path / "notes.txt").write_text("not: [yaml")
    loaded, problems = validate_path(tmp_path)
    assert problems == [] and [lp.playbook_id for lp in loaded] == ["mfa_reset"]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("", 1, "this file is empty"),
        ("id: x\nname: \x07\n", 2, "YAML syntax error"),
        ("id: x\n---\nid: y\n", 2, "YAML syntax error"),
        ("just a string\n", 1, "this file is a string"),
    ],
)
def test_unparseable_text_is_one_problem_with_its_line(text: str, line: int, fragment: str) -> None:
    result = validate_text(text, "t.yml")
    assert result.playbook is None
    assert [(p.line, fragment in p.message) for p in result.problems] == [(line, True)]


def test_a_wrongly_typed_step_is_reported_without_cascading() -> None:
    text = (
        (PLAYBOOKS / "mfa_reset.yml")
        .read_text(encoding="utf-8")
        .replace("    timeout: 30s\n", "    timeout: soon\n")
    )
    result = validate_text(text, "t.yml")
    assert [(p.line, p.message) for p in result.problems] == [
        (23, "step 'create_credential' timeout: 'soon' is not a duration (use seconds or '30s', '5m', '1h')")
    ]


def test_alias_bombs_are_refused_quickly() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    result = validate_text("\n".join(lines) + "\n", "bomb.yml")
    assert [(p.line, "aliases are expanded" in p.message) for p in result.problems] == [(1, True)]


def test_an_escalation_block_names_where_escalated_tickets_land() -> None:
    text = (PLAYBOOKS / "password_reset.yml").read_text(encoding="utf-8")
    block = (
        'escalation:\n  team: "Identity & Access"\n  agent_id: 12\n  status_id: 5\n  priority_id: 1\nsteps:\n'
    )
    valid = validate_text(text.replace("steps:\n", block, 1), "password_reset.yml")
    assert valid.problems == () and valid.playbook is not None
    assert valid.playbook.escalation is not None
    assert valid.playbook.escalation.as_payload() == {
        "team": "Identity & Access",
        "agent_id": 12,
        "status_id": 5,
        "priority_id": 1,
    }
    empty = validate_text(text.replace("steps:\n", "escalation: {}\nsteps:\n", 1), "password_reset.yml")
    assert [p.message for p in empty.problems] == [
        "escalation: give at least one of team, agent_id, status_id, priority_id"
    ]
