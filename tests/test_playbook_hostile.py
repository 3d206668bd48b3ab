"""Hostile playbook content (issue 10, items 4 and 5): whatever a file holds, validation answers with
problems that carry the file and line, never an exception; every duration and number is bounded, so a
playbook that validates can always be started."""

from __future__ import annotations

import io
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ticketpilot.playbooks.loader import cli_validate
from ticketpilot.playbooks.validate import Validated, validate_text

ROOT = Path(__file__).resolve().parents[1]
PASSWORD_RESET = (ROOT / "playbooks" / "password_reset.yml").read_text(encoding="utf-8")
THRESHOLD_LINE = next(
    line for line in PASSWORD_RESET.splitlines() if line.startswith("confidence_threshold:")
)
HUGE = "9" * 5000


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def problems(text: str) -> list[tuple[int, str]]:
    result = validate_text(text, "p.yml")
    assert result.playbook is None, "expected the playbook to be rejected"
    return [(p.line, p.message) for p in result.problems]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (THRESHOLD_LINE, f"confidence_threshold: {HUGE}"),
        ('version: "1.0.0"', f"version: {HUGE}"),
        ("    timeout: 120s", f"    timeout: {HUGE}"),
        ("max_attempts: 3, backoff: exponential, initial: 2s", f"max_attempts: {HUGE}, initial: 2s"),
        ("lifetime_minutes: 60", f"lifetime_minutes: {HUGE}"),
        ("lifetime_minutes: 60", f"lifetime_minutes: -{HUGE}"),
        ("lifetime_minutes: 60", "lifetime_minutes: 0x" + "f" * 5000),
        ("lifetime_minutes: 60", "lifetime_minutes: 0o" + "7" * 5000),
    ],
    ids=["threshold", "version", "timeout", "max_attempts", "param", "negative", "hex", "octal"],
)
def test_a_5000_digit_number_is_a_problem_on_its_line(old: str, new: str) -> None:
    text = PASSWORD_RESET.replace(old, new)
    assert text != PASSWORD_RESET
    found = problems(text)
    assert [line for line, _ in found] == [line_of(text, new[:20])], found


def test_a_4000_digit_duration_is_a_problem_not_an_overflow() -> None:
    text = PASSWORD_RESET.replace("    timeout: 120s", "    timeout: " + "9" * 4000)
    assert [line for line, _ in problems(text)] == [line_of(text, "    timeout: 999")]


@pytest.mark.parametrize(
    "duration", ["999999999999h", "31d", "745h", "44641m", "2678401", "1e300", "0.0000001s", "1e-9"]
)
def test_durations_out_of_bounds_are_problems(duration: str) -> None:
    text = PASSWORD_RESET.replace("    timeout: 120s", f"    timeout: {duration}")
    found = problems(text)
    assert [line for line, _ in found] == [line_of(text, f"timeout: {duration}")]
    assert "step 'verify_mfa' timeout:" in found[0][1]


@pytest.mark.parametrize("field", ["initial", "max"])
def test_retry_delays_out_of_bounds_are_problems(field: str) -> None:
    old = "{max_attempts: 3, backoff: exponential, initial: 2s, max: 30s}"
    new = old.replace("2s" if field == "initial" else "30s", "999999999999h")
    text = PASSWORD_RESET.replace(old, new)
    found = problems(text)
    assert [line for line, _ in found] == [line_of(text, new)]
    assert f"retry.{field}" in found[0][1]


def test_the_largest_allowed_durations_still_validate() -> None:
    text = PASSWORD_RESET.replace("    timeout: 30m", "    timeout: 720h").replace(
        "initial: 2s, max: 30s", "initial: 1ms, max: 720h"
    )
    result = validate_text(text, "p.yml")
    assert result.problems == ()


@pytest.mark.parametrize(
    "value", ["1e400", "-1e400", ".nan", "99999999999999999999", "1.5e12", "-10000000000"]
)
def test_numbers_in_params_are_bounded_and_finite(value: str) -> None:
    text = PASSWORD_RESET.replace("lifetime_minutes: 60", f"lifetime_minutes: {value}")
    found = problems(text)
    assert [line for line, _ in found] == [line_of(text, f"lifetime_minutes: {value}")]
    assert "step 'create_credential' params.lifetime_minutes" in found[0][1]


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ('version: "1.0.0"', 'version: "1.0\\0"', "version:"),
        ("name: Password reset / account unlock", 'name: "reset\\0"', "name:"),
        ('version: "1.0.0"', 'version: "1.0\\ud800"', "version:"),
        ("reason: Automation could", 'reason: "Auto\\0mation" #', "reason:"),
        ("lifetime_minutes: 60", 'lifetime_minutes: 60\n      "x\\0": 1', '"x\\0"'),
    ],
    ids=["nul-version", "nul-name", "surrogate", "nul-reason", "nul-key"],
)
def test_nul_and_lone_surrogates_in_strings_are_problems(old: str, new: str, needle: str) -> None:
    text = PASSWORD_RESET.replace(old, new)
    assert text != PASSWORD_RESET
    found = problems(text)
    assert line_of(text, needle) in [line for line, _ in found], found
    assert any("character" in message for _, message in found), found


def test_cli_prints_file_line_for_a_5000_digit_number(tmp_path: Path) -> None:
    bad = tmp_path / "password_reset.yml"
    text = PASSWORD_RESET.replace("    timeout: 120s", f"    timeout: {HUGE}")
    bad.write_text(text, encoding="utf-8")
    out = io.StringIO()
    assert cli_validate(bad, out=out) == 1
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{bad}:{line_of(text, 'timeout: 999')}: ")
    assert "Traceback" not in out.getvalue()


# --- fuzzing: any text, any YAML shape → problems, never an exception -----------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["9" * 5000, "-" + "9" * 4400, "0x" + "f" * 5000, "1e999", ".inf", "\\0", "720h", "3m"]),
)


def _yaml_scalar(value: object) -> str:
    if isinstance(value, str):
        if value and all(c in string.ascii_letters + string.digits + ".-+" for c in value):
            return value  # plain (may resolve to a number)
        escaped = value.encode("unicode_escape").decode("ascii").replace('"', '\\"')
        return f'"{escaped}"'
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value).replace("inf", ".inf").replace("nan", ".nan")


_KEYS = ["id", "name", "version", "steps", "service", "timeout", "retry", "max_attempts", "initial",
         "max", "params", "triggers", "sub_categories", "terminal", "on_success", "on_failure",
         "confidence_threshold", "lifetime_minutes", "mode", "enabled"]  # fmt: skip

_trees = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(_KEYS), st.text(max_size=8)), children, max_size=5),
    ),
    max_leaves=25,
)


def _dump(value: object, indent: int = 0) -> str:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "\n".join(
            f"{pad}{_yaml_scalar(k)}:"
            + (f"\n{_dump(v, indent + 2)}" if isinstance(v, dict | list) and v else f" {_dump(v)}")
            for k, v in value.items()
        )
    if isinstance(value, list):
        if not value:
            return "[]"
        return "\n".join(f"{pad}- " + _dump(v, indent + 2).lstrip() for v in value)
    return _yaml_scalar(value)


def _mutations(text: str) -> st.SearchStrategy[str]:
    lines = text.splitlines()
    return st.tuples(st.integers(0, len(lines) - 1), st.sampled_from(_KEYS), _scalars).map(
        lambda t: "\n".join(
            [*lines[: t[0]], f"{lines[t[0]].split(':')[0]}: {_yaml_scalar(t[2])}", *lines[t[0] + 1 :]]
        )
    )


def assert_reported(result: Validated) -> None:
    """A playbook, or problems with a file and line, each one foreseen (not the catch-all for a crash)."""
    assert result.ok or result.problems
    for problem in result.problems:
        assert problem.file == "f.yml" and problem.line >= 1
        assert "cannot read this file as a playbook" not in problem.message, problem


_SETTINGS = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


@_SETTINGS
@given(st.text(max_size=300))
def test_any_text_is_problems_or_a_playbook(text: str) -> None:
    result = validate_text(text, "f.yml")
    assert_reported(result)


@_SETTINGS
@given(_trees)
def test_any_yaml_shape_is_problems_or_a_playbook(tree: object) -> None:
    result = validate_text(_dump(tree) + "\n", "f.yml")
    assert_reported(result)


@_SETTINGS
@given(_mutations(PASSWORD_RESET))
def test_any_value_in_a_real_playbook_is_problems_or_a_playbook(text: str) -> None:
    result = validate_text(text, "f.yml")
    assert_reported(result)
    if result.playbook is not None:
        for step in result.playbook.steps:
            assert step.timeout is None or 0.001 <= step.timeout <= 30 * 86400
