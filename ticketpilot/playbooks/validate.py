"""Playbook validation: YAML text → a :class:`Playbook`, or every problem in it at once, each with its line.

Pure: no file system, no database. Three passes over one parse, so that a single run reports everything:

1. YAML syntax (ruamel.yaml round-trip, which keeps the line of every key and item);
2. the pydantic schema (unknown keys, wrong types, bad durations, retries without a bound), its error
   locations mapped back to YAML lines;
3. the step graph (``graph.py``), checked on the raw YAML so it runs even when the schema pass failed.
"""

from __future__ import annotations

import difflib
import io
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pydantic import BaseModel, ValidationError
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from ticketpilot.playbooks.bounds import NumberTooLong, bounded_yaml, value_problems
from ticketpilot.playbooks.graph import graph_problems
from ticketpilot.playbooks.model import EscalationTarget, Playbook, RetryPolicy, Step, Triggers
from ticketpilot.playbooks.yaml_lines import key_line, line_for

if TYPE_CHECKING:
    from ticketpilot.playbooks.loader import LoadedPlaybook


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a playbook, where an operator can find it (``line`` is 1-based)."""

    file: str
    line: int
    message: str
    playbook_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class PlaybookInvalid(Exception):
    """A playbook was rejected; ``problems`` lists every reason with its line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        first = str(self.problems[0]) if self.problems else "invalid playbook"
        more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(first + more)

    def __repr__(self) -> str:
        return f"PlaybookInvalid(problems={list(self.problems)!r})"


class PlaybookConflict(Exception):
    """The API was given new content under a version string that another stored content already has."""

    def __init__(self, playbook_id: str, version: str, existing_hash: str) -> None:
        super().__init__(
            f"version {version!r} of playbook {playbook_id!r} already exists with other content "
            f"({existing_hash[:16]}); give the new content a new version"
        )
        self.playbook_id = playbook_id
        self.version = version
        self.existing_hash = existing_hash

    def __repr__(self) -> str:
        return f"PlaybookConflict(playbook_id={self.playbook_id!r}, version={self.version!r})"


@dataclass(frozen=True)
class Validated:
    """The outcome of validating one YAML text: a playbook when ``problems`` is empty."""

    playbook: Playbook | None
    problems: tuple[Problem, ...]
    playbook_id: str | None
    """The ``id`` the text declares, when it can be read at all (also for invalid playbooks)."""
    id_line: int = 1

    @property
    def ok(self) -> bool:
        return self.playbook is not None


def validate_text(text: str, file: str) -> Validated:
    """Validate playbook YAML ``text`` (named ``file`` in problems); never raises for bad input.

    Whatever a file holds is a problem report for that file: a registry reloading a folder must never be
    stopped by one file's content.
    """
    try:
        return _validate(text, file)
    except RecursionError:
        return Validated(None, (Problem(file, 1, "YAML nested too deeply to be a playbook"),), None)
    except Exception as exc:  # a shape no check above foresaw: still a problem, never a crash
        message = f"cannot read this file as a playbook ({type(exc).__name__})"
        return Validated(None, (Problem(file, 1, message),), None)


def _validate(text: str, file: str) -> Validated:
    try:
        root = bounded_yaml().load(io.StringIO(text))
    except YAMLError as exc:
        return Validated(None, (Problem(file, _yaml_error_line(exc, text), _yaml_error_message(exc)),), None)
    except NumberTooLong as exc:
        return Validated(None, (Problem(file, exc.line, str(exc)),), None)
    except (ValueError, OverflowError, TypeError) as exc:  # a scalar ruamel cannot construct
        message = (
            f"YAML value cannot be read: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}"
        )
        return Validated(None, (Problem(file, 1, message),), None)
    if not isinstance(root, CommentedMap):
        kind = "empty" if root is None else _a(_type_name(root))
        message = (
            f"a playbook must be a YAML mapping (id, name, version, triggers, steps); this file is {kind}"
        )
        return Validated(None, (Problem(file, 1, message),), None)
    playbook_id = root.get("id") if isinstance(root.get("id"), str) else None
    id_line = key_line(root, "id") if "id" in root else root.lc.line + 1
    try:
        plain = _plain(root, [_MAX_NODES])
    except _TooLarge:
        message = f"more than {_MAX_NODES} values once aliases are expanded; not a playbook"
        return Validated(None, (Problem(file, 1, message, playbook_id),), playbook_id, id_line)
    found = [
        *_schema_problems(root, plain),
        *graph_problems(root),
        *((line, _located(root, loc, message)) for line, loc, message in value_problems(root)),
    ]
    problems = tuple(Problem(file, line, message, playbook_id) for line, message in sorted(set(found)))
    if problems:
        return Validated(None, problems, playbook_id, id_line)
    return Validated(Playbook.model_validate(plain), (), playbook_id, id_line)


def validate_path(path: str | Path) -> tuple[list[LoadedPlaybook], list[Problem]]:
    """Validate a playbook file or folder (see :func:`ticketpilot.playbooks.loader.validate_path`)."""
    from ticketpilot.playbooks import loader  # the file-reading edge builds on this module

    return loader.validate_path(path)


def cli_validate(path: str | Path, out: TextIO | None = None) -> int:
    """``python main.py playbooks validate [PATH]``: see :func:`ticketpilot.playbooks.loader.cli_validate`."""
    from ticketpilot.playbooks import loader

    return loader.cli_validate(path, out)


def _located(root: CommentedMap, loc: Sequence[Any], message: str) -> str:
    where = _where(root, loc)
    return f"{where}: {message}" if where else message


def _yaml_error_line(exc: YAMLError, text: str) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return int(mark.line) + 1
    position = getattr(exc, "position", None)  # ReaderError (a forbidden character) has only an offset
    if isinstance(position, int):
        return text.count("\n", 0, position) + 1
    return 1


def _yaml_error_message(exc: YAMLError) -> str:
    if isinstance(exc, MarkedYAMLError):
        parts = [p for p in (exc.context, exc.problem) if p]
        detail = ": ".join(str(p) for p in parts) or type(exc).__name__
    else:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"YAML syntax error: {detail}"


# --- pass 2: schema -----------------------------------------------------------------------------------


_MAX_NODES = 100_000
"""Bound on values after alias expansion: YAML aliases can nest into a "billion laughs"."""


class _TooLarge(Exception):
    pass


def _plain(value: Any, budget: list[int]) -> Any:
    """ruamel's round-trip types → plain dict/list/str/float, as pydantic and JSON expect."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: _plain(v, budget) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, budget) for v in value]
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    for kind, name in (
        (bool, "boolean"),
        (dict, "mapping"),
        (list, "list"),
        (str, "string"),
        (int, "number"),
    ):
        if isinstance(value, kind):
            return name
    return "number" if isinstance(value, float) else type(value).__name__


def _a(name: str) -> str:
    return name if name == "null" else f"a {name}"


def _where(root: CommentedMap, loc: Sequence[Any]) -> str:
    """``steps.2.retry.initial`` → ``step 'deliver_sms' retry.initial`` (the step's id when it has one)."""
    parts = list(loc)
    prefix = ""
    if len(parts) >= 2 and parts[0] == "steps" and isinstance(parts[1], int):
        steps = root.get("steps")
        step = steps[parts[1]] if isinstance(steps, list) and parts[1] < len(steps) else None
        step_id = step.get("id") if isinstance(step, dict) else None
        prefix = f"step '{step_id}'" if isinstance(step_id, str) else f"steps[{parts[1]}]"
        parts = parts[2:]
    path = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in parts).replace(".[", "[")
    return " ".join(p for p in (prefix, path) if p)


def _model_at(loc: Sequence[Any]) -> type[BaseModel] | None:
    models: dict[tuple[str, ...], type[BaseModel]] = {
        (): Playbook,
        ("triggers",): Triggers,
        ("steps",): Step,
        ("steps", "retry"): RetryPolicy,
        ("escalation",): EscalationTarget,
    }
    return models.get(tuple(str(p) for p in loc if not isinstance(p, int)))


def _schema_problems(root: CommentedMap, plain: Any) -> Iterator[tuple[int, str]]:
    try:
        Playbook.model_validate(plain)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    else:
        return
    locs = [tuple(e["loc"]) for e in errors]
    for err in errors:
        loc = tuple(err["loc"])
        kind = err["type"]
        if kind == "too_short" and any(other[: len(loc)] == loc and other != loc for other in locs):
            continue  # "0 items after validation" only echoes the errors inside the list
        if kind == "string_unicode":
            continue  # a lone surrogate: reported by bounds.value_problems, with what it is
        if kind == "extra_forbidden":
            key = str(loc[-1])
            model = _model_at(loc[:-1])
            hint = ""
            if model is not None:
                close = difflib.get_close_matches(key, list(model.model_fields), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
            where = _where(root, loc[:-1])
            yield (
                line_for(root, loc, at_key=True),
                f"{where + ': ' if where else ''}unknown key '{key}'{hint}",
            )
            continue
        where = _where(root, loc[:-1] if kind == "missing" else loc)
        if kind == "missing" and loc[-1] == "max_attempts":
            message = "max_attempts is required (a retry needs a bound)"
        elif kind == "missing":
            message = f"missing required key '{loc[-1]}'"
        elif kind in ("model_type", "dict_type", "model_attributes_type"):
            message = f"expected a mapping (key: value), got {_a(_type_name(err.get('input')))}"
        elif kind in ("tuple_type", "list_type"):
            message = f"expected a list, got {_a(_type_name(err.get('input')))}"
        else:
            message = str(err["msg"]).removeprefix("Value error, ")
            if loc == ("version",) and isinstance(err.get("input"), int | float):
                message += ' (quote it: version: "1.0.0")'
        yield line_for(root, loc, at_key=kind == "missing"), f"{where + ': ' if where else ''}{message}"
