"""Bounds on what a playbook file may hold, so that any content is a problem report, never an exception.

- Numbers are read with a bounded length: a 5000-digit integer would otherwise make Python's ``int()``
  raise (or ``float()`` overflow) while the YAML is constructed, far from any line number.
- Strings may not carry NUL characters or lone surrogates: PostgreSQL cannot store them, and neither can be
  written to HaloPSA or a log line as UTF-8.
- Numbers in a step's ``params`` are finite and of a sane size, so a service never overflows on them.

Durations are bounded where they are parsed (:func:`ticketpilot.playbooks.model.parse_duration`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.nodes import ScalarNode

from ticketpilot.playbooks.yaml_lines import item_line, key_line, value_line

MAX_NUMBER_CHARS = 64
"""The longest number a playbook may spell out (no playbook value needs more than a handful of digits)."""
MAX_PARAM_NUMBER = 1_000_000_000
"""The largest magnitude of a number in a step's ``params``."""


class NumberTooLong(Exception):
    """A numeric scalar longer than :data:`MAX_NUMBER_CHARS`; ``line`` is 1-based."""

    def __init__(self, line: int, length: int) -> None:
        super().__init__(f"a number of {length} characters is too long (at most {MAX_NUMBER_CHARS})")
        self.line = line
        self.length = length

    def __repr__(self) -> str:
        return f"NumberTooLong(line={self.line}, length={self.length})"


class _BoundedConstructor(RoundTripConstructor):
    """ruamel's round-trip constructor, refusing over-long numbers before converting them."""

    def _check_length(self, node: ScalarNode) -> None:
        value = str(node.value)
        if len(value) > MAX_NUMBER_CHARS:
            raise NumberTooLong(int(node.start_mark.line) + 1, len(value))

    def construct_bounded_int(self, node: ScalarNode) -> Any:
        self._check_length(node)
        return self.construct_yaml_int(node)

    def construct_bounded_float(self, node: ScalarNode) -> Any:
        self._check_length(node)
        return self.construct_yaml_float(node)


_BoundedConstructor.add_constructor("tag:yaml.org,2002:int", _BoundedConstructor.construct_bounded_int)
_BoundedConstructor.add_constructor("tag:yaml.org,2002:float", _BoundedConstructor.construct_bounded_float)


def bounded_yaml() -> YAML:
    """A round-trip YAML reader with bounded numbers (a fresh one per call: not thread-safe to share)."""
    yaml = YAML(typ="rt")
    yaml.Constructor = _BoundedConstructor
    return yaml


def bad_character(text: str) -> str | None:
    """What is wrong with ``text`` as stored text, or None: a NUL or a lone surrogate."""
    if "\x00" in text:
        return "a NUL character"
    if any("\ud800" <= c <= "\udfff" for c in text):
        return "a lone surrogate character"
    return None


def value_problems(root: CommentedMap) -> Iterator[tuple[int, tuple[Any, ...], str]]:
    """Strings with characters that cannot be stored, and out-of-range numbers in ``params``:
    ``(line, location, message)`` with the location as pydantic would give it (``("steps", 2, "params")``).

    The caller has already bounded the tree's size (aliases expanded), so a full walk is cheap.
    """
    yield from _walk(root, (), in_params=False, line=int(root.lc.line) + 1)


def _walk(
    node: Any, loc: tuple[Any, ...], *, in_params: bool, line: int
) -> Iterator[tuple[int, tuple[Any, ...], str]]:
    if isinstance(node, CommentedMap):
        for key in node:
            if isinstance(key, str) and (bad := bad_character(key)):
                yield key_line(node, key), loc, f"a key contains {bad}"
            yield from _walk(
                node[key],
                (*loc, key if isinstance(key, str) else str(key)),
                in_params=in_params or (key == "params" and len(loc) == 2),
                line=value_line(node, key),
            )
    elif isinstance(node, CommentedSeq):
        for index, item in enumerate(node):
            yield from _walk(item, (*loc, index), in_params=in_params, line=item_line(node, index))
    elif isinstance(node, str):
        if bad := bad_character(node):
            yield line, loc, f"contains {bad}"
    elif in_params and isinstance(node, int | float) and not isinstance(node, bool):
        if not math.isfinite(node) or abs(node) > MAX_PARAM_NUMBER:
            yield line, loc, f"must be a finite number between -{MAX_PARAM_NUMBER:,} and {MAX_PARAM_NUMBER:,}"
