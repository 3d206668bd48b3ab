"""Reading playbook files: one file or a folder of ``*.yml`` → loaded playbooks and problems.

Also the core of ``python main.py playbooks validate [PATH]`` (:func:`cli_validate`).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

from ticketpilot.playbooks.model import Playbook
from ticketpilot.playbooks.validate import Problem, Validated, validate_text

Source = Literal["file", "api", "adhoc"]
"""Where a version came from: a playbook file, the API, or an ad hoc single-service run."""
PLAYBOOK_SUFFIXES: tuple[str, ...] = (".yml", ".yaml")


def content_hash(text: str) -> str:
    """The identity of a playbook version: sha256 (hex) of its YAML text, exactly as written."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LoadedPlaybook:
    """One playbook version as the gate and the engine see it: an immutable snapshot.

    ``enabled`` is the effective switch: the operator's switch, the definition's own ``enabled`` and, for a
    playbook that came from a file, that the file still exists. ``kill_switch`` is reported separately so
    that the gate can record it as its own blocker.
    """

    playbook: Playbook
    content_hash: str
    yaml_text: str
    source: Source
    enabled: bool = True
    kill_switch: bool = False
    file_path: Path | None = None

    @property
    def playbook_id(self) -> str:
        return self.playbook.id

    @property
    def version(self) -> str:
        return self.playbook.version

    @property
    def mode(self) -> str:
        return self.playbook.mode

    @property
    def short_hash(self) -> str:
        return self.content_hash[:16]


@dataclass(frozen=True)
class FileResult:
    """What one playbook file holds right now: its text and hash, and the playbook or its problems."""

    path: Path
    text: str | None
    content_hash: str | None
    result: Validated

    @property
    def ok(self) -> bool:
        return self.result.ok

    @property
    def playbook_id(self) -> str | None:
        return self.result.playbook_id

    def loaded(self) -> LoadedPlaybook:
        if self.result.playbook is None or self.text is None or self.content_hash is None:
            raise ValueError(f"{self.path} is not a valid playbook")
        return LoadedPlaybook(self.result.playbook, self.content_hash, self.text, "file", file_path=self.path)


def is_playbook_file(path: Path) -> bool:
    """``*.yml`` / ``*.yaml``, not hidden (editors' temporary and swap files start with a dot)."""
    return path.suffix in PLAYBOOK_SUFFIXES and not path.name.startswith((".", "#", "~"))


def playbook_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and is_playbook_file(p))


def read_playbook_file(path: Path) -> FileResult:
    """Read and validate one file; unreadable or non-UTF-8 files become problems, not exceptions."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problem = Problem(str(path), 1, f"cannot read playbook file: {exc}")
        return FileResult(path, None, None, Validated(None, (problem,), None))
    return FileResult(path, text, content_hash(text), validate_text(text, str(path)))


def check_unique_ids(results: Iterable[FileResult]) -> list[FileResult]:
    """A playbook id defined by two files: the first file (by name) wins, the other is a problem."""
    owners: dict[str, Path] = {}
    checked: list[FileResult] = []
    for res in results:
        pid = res.playbook_id
        if res.ok and pid is not None and pid in owners:
            problem = Problem(
                str(res.path),
                res.result.id_line,
                f"playbook id '{pid}' is already defined in {owners[pid]}",
                pid,
            )
            res = FileResult(
                res.path, res.text, res.content_hash, Validated(None, (problem,), pid, res.result.id_line)
            )
        elif res.ok and pid is not None:
            owners[pid] = res.path
        checked.append(res)
    return checked


def scan_directory(directory: Path) -> list[FileResult]:
    """Every playbook file in ``directory`` (not recursive), read and validated, in name order."""
    return check_unique_ids(read_playbook_file(p) for p in playbook_files(directory))


def validate_path(path: str | Path) -> tuple[list[LoadedPlaybook], list[Problem]]:
    """Validate one playbook file or every playbook file of a folder."""
    target = Path(path)
    if target.is_dir():
        results = scan_directory(target)
        if not results:
            suffixes = ", ".join(f"*{s}" for s in PLAYBOOK_SUFFIXES)
            return [], [Problem(str(target), 1, f"no playbook files ({suffixes}) in this folder")]
    elif target.exists():
        results = [read_playbook_file(target)]
    else:
        return [], [Problem(str(target), 1, "no such file or folder")]
    loaded = [r.loaded() for r in results if r.ok]
    problems = [p for r in results for p in r.result.problems]
    return loaded, problems


def cli_validate(path: str | Path, out: TextIO | None = None) -> int:
    """Print ``FILE:LINE: message`` per problem and return 1, else print a one-line summary and return 0."""
    stream = out if out is not None else sys.stdout
    loaded, problems = validate_path(path)
    for problem in problems:
        print(problem, file=stream)
    if problems:
        return 1
    names = ", ".join(
        f"{lp.playbook_id} {lp.version}" for lp in sorted(loaded, key=lambda lp: lp.playbook_id)
    )
    noun = "playbook" if len(loaded) == 1 else "playbooks"
    print(f"{len(loaded)} {noun} valid: {names}", file=stream)
    return 0
