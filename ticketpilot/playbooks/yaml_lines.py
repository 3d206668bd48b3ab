"""Where things are in a playbook's YAML: 1-based line numbers from ruamel's round-trip positions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq


def key_line(node: CommentedMap, key: Any) -> int:
    """The line of ``key`` itself (the mapping's own line if unknown)."""
    try:
        return int(node.lc.key(key)[0]) + 1
    except (KeyError, TypeError, AttributeError):
        return int(node.lc.line) + 1


def value_line(node: CommentedMap, key: Any) -> int:
    """The line where the value of ``key`` starts."""
    try:
        return int(node.lc.value(key)[0]) + 1
    except (KeyError, TypeError, AttributeError):
        return key_line(node, key)


def item_line(node: CommentedSeq, index: int) -> int:
    """The line of a list item (its ``-``)."""
    try:
        return int(node.lc.item(index)[0]) + 1
    except (KeyError, TypeError, AttributeError, IndexError):
        return int(node.lc.line) + 1


def find_key(node: CommentedMap, part: Any) -> Any:
    """The YAML key that a pydantic location part names; KeyError if there is none."""
    if part in node:
        return part
    for key in node:  # YAML keys that pydantic saw stringified (``1: x``)
        if str(key) == str(part):
            return key
    raise KeyError(part)


def line_for(root: CommentedMap, loc: Sequence[Any], *, at_key: bool) -> int:
    """The YAML line of a pydantic error location: the key itself (``at_key``) or its value.

    A location that leaves the YAML (a missing key) resolves to the line of the deepest node that exists.
    """
    node: Any = root
    line = int(root.lc.line) + 1
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, CommentedMap):
            try:
                key = find_key(node, part)
            except KeyError:
                break
            line = value_line(node, key) if last and not at_key else key_line(node, key)
            node = node[key]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line = item_line(node, part)
            node = node[part]
        else:
            break
    return line
