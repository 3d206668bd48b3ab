"""The step graph of a playbook, checked on the raw YAML so it runs even when the schema check failed.

Unknown services, duplicate step ids, transitions to undefined steps, missing transitions, terminal/service
mix-ups, unreachable steps, and flows that can never finish. Each problem is ``(line, message)``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ticketpilot.playbooks.model import EMAIL_RECIPIENTS, REASKABLE_SERVICES, SERVICES
from ticketpilot.playbooks.yaml_lines import item_line, key_line, value_line

TRANSITIONS: tuple[str, ...] = ("on_success", "on_failure", "on_timeout")
_SERVICE_ONLY_KEYS: tuple[str, ...] = ("service", "params", "timeout", "retry", "on_restart", *TRANSITIONS)


@dataclass(frozen=True)
class _RawStep:
    node: CommentedMap
    line: int
    step_id: str | None
    terminal: bool

    def label(self, index: int) -> str:
        return f"step '{self.step_id}'" if self.step_id is not None else f"steps[{index}]"

    def targets(self) -> Iterator[tuple[str, str]]:
        for key in TRANSITIONS:
            target = self.node.get(key)
            if isinstance(target, str):
                yield key, target


def _raw_steps(root: CommentedMap) -> list[tuple[int, _RawStep]]:
    seq = root.get("steps")
    if not isinstance(seq, CommentedSeq):
        return []
    found = []
    for i, node in enumerate(seq):
        if isinstance(node, CommentedMap):
            step_id = node.get("id") if isinstance(node.get("id"), str) else None
            found.append((i, _RawStep(node, item_line(seq, i), step_id, node.get("terminal") is not None)))
    return found


def graph_problems(root: CommentedMap) -> Iterator[tuple[int, str]]:
    steps = _raw_steps(root)
    if not steps:
        return
    by_id: dict[str, _RawStep] = {}
    for i, step in steps:
        yield from _step_problems(i, step)
        if step.step_id is None:
            continue
        if step.step_id in by_id:
            first = by_id[step.step_id].line
            message = f"duplicate step id '{step.step_id}' (first defined on line {first})"
            yield value_line(step.node, "id"), message
        else:
            by_id[step.step_id] = step
    for i, step in steps:
        for key, target in step.targets():
            if target not in by_id:
                message = f"{step.label(i)}: {key} goes to undefined step '{target}'"
                close = difflib.get_close_matches(target, list(by_id), n=1)
                yield (
                    value_line(step.node, key),
                    message + (f" (did you mean '{close[0]}'?)" if close else ""),
                )
    yield from _reachability_problems(root, steps, by_id)


def _step_problems(index: int, step: _RawStep) -> Iterator[tuple[int, str]]:
    label = step.label(index)
    service = step.node.get("service")
    if isinstance(service, str) and service not in SERVICES:
        close = difflib.get_close_matches(service, sorted(SERVICES), n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(sorted(SERVICES))}"
        yield value_line(step.node, "service"), f"{label}: unknown service '{service}' ({hint})"
    if step.terminal:
        for key in _SERVICE_ONLY_KEYS:
            if step.node.get(key) is not None:
                what = "name a service" if key == "service" else f"have '{key}'"
                yield key_line(step.node, key), f"{label}: a terminal step must not {what}"
    elif service is None:
        yield step.line, f"{label} has neither a service nor terminal (RESOLVED or ESCALATED)"
    else:
        for key in ("on_success", "on_failure"):
            if step.node.get(key) is None:
                yield step.line, f"{label} calls a service but has no {key}"
        if service == "delivery.email":
            yield from _email_params_problems(label, step.node)
        if (
            step.node.get("on_restart") is not None
            and service in SERVICES
            and service not in REASKABLE_SERVICES
        ):
            yield (
                key_line(step.node, "on_restart"),
                (
                    f"{label}: on_restart applies only to {', '.join(sorted(REASKABLE_SERVICES))}; a {service} "
                    "step left in doubt by a restart is never asked again (a credential or a delivery is never "
                    "re-sent; a manager approval resumes its wait)"
                ),
            )


def _email_params_problems(label: str, node: CommentedMap) -> Iterator[tuple[int, str]]:
    """``delivery.email`` takes only ``to: requester | manager``: a destination is never an address."""
    params = node.get("params")
    if params is None:
        return
    if not isinstance(params, CommentedMap):
        yield value_line(node, "params"), f"{label}: params must be a mapping like {{to: requester}}"
        return
    for key in params:
        if key != "to":
            yield key_line(params, key), f"{label}: delivery.email has no param '{key}' (only 'to')"
    to = params.get("to")
    if "to" in params and to not in EMAIL_RECIPIENTS:
        yield (
            value_line(params, "to"),
            f"{label}: to must be {' or '.join(EMAIL_RECIPIENTS)} (an address on record), not {to!r}",
        )


def _reachability_problems(
    root: CommentedMap, steps: list[tuple[int, _RawStep]], by_id: dict[str, _RawStep]
) -> Iterator[tuple[int, str]]:
    first_index, first = steps[0]
    if first_index != 0 or first.step_id is None or by_id.get(first.step_id) is not first:
        return  # the entry point itself is broken; the problems above already say why
    edges = {sid: [t for _, t in s.targets() if t in by_id] for sid, s in by_id.items()}
    reachable = _closure([first.step_id], edges)
    for i, step in steps:
        if step.step_id is not None and step.step_id not in reachable and by_id.get(step.step_id) is step:
            yield step.line, f"{step.label(i)} is unreachable from the first step '{first.step_id}'"
    terminals = {sid for sid, s in by_id.items() if s.terminal}
    steps_line = key_line(root, "steps")
    if not terminals & reachable:
        yield steps_line, f"no terminal step is reachable from the first step '{first.step_id}'"
        return
    reverse: dict[str, list[str]] = {sid: [] for sid in by_id}
    for source, targets in edges.items():
        for target in targets:
            reverse[target].append(source)
    finishing = _closure(sorted(terminals), reverse)
    for i, step in steps:
        # Only steps whose own transitions are complete and defined: the others are reported above already.
        complete = all(isinstance(step.node.get(k), str) for k in ("on_success", "on_failure")) and all(
            t in by_id for _, t in step.targets()
        )
        if complete and step.step_id in reachable - finishing and by_id.get(step.step_id) is step:
            yield step.line, f"{step.label(i)} can never reach a terminal step (an endless loop)"


def _closure(start: Sequence[str], edges: dict[str, list[str]]) -> set[str]:
    seen = set(start)
    stack = list(start)
    while stack:
        for nxt in edges.get(stack.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen
