"""Measure a classifier on labelled tickets: per-sub-category precision/recall and the automation decision.

The labelled file (JSON Lines) has one ticket per line with at least ``id``, ``subject``, ``body``,
``requester_email``, ``sub_category``, ``expected_automate`` and ``tags``. A ratio whose denominator is zero
is reported as 0.0 (scikit-learn's ``zero_division=0``): no automation is never reported as "perfect".

Besides the overall figures, a report breaks the automation down per language (the ``language`` field, a
``lang:xx`` tag, or a stop-word guess) and per tag, and lists every false automation with its flags and the
classifier's reasoning. :func:`evaluate_unlabelled` does the same for a ticket history without labels.

Run ``python -m ticketpilot.gate.evaluation FILE [--json]`` to evaluate the offline classifier.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .classification import Classification, ClassificationError, ClassifierResult, TicketText
from .eval_report import (
    ADVERSARIAL_TAGS,
    ERROR_LABEL,
    AutomationMetrics,
    ClassMetrics,
    EvalReport,
    TicketOutcome,
    UnlabelledReport,
    ratio,
)
from .language import language_of

__all__ = [
    "ADVERSARIAL_TAGS",
    "DEFAULT_TRIGGERS",
    "AutomationMetrics",
    "ClassMetrics",
    "EvalReport",
    "JsonlError",
    "TicketOutcome",
    "UnlabelledReport",
    "automation_decision",
    "evaluate",
    "evaluate_unlabelled",
    "read_jsonl",
]

DEFAULT_TRIGGERS: Mapping[str, float] = MappingProxyType(
    {"PASSWORD_RESET": 0.8, "ACCOUNT_LOCKOUT": 0.8, "MFA_RESET": 0.8}
)
"""The shipped playbooks' trigger sub-categories and their confidence thresholds."""


def automation_decision(
    classification: Classification, *, triggers: Mapping[str, float] = DEFAULT_TRIGGERS
) -> bool:
    """Whether the gate would automate: a trigger sub-category at or above its threshold, the requester's
    own account, and no risk flag. (Stand-in for the real gate, which also checks directory facts.)"""
    threshold = triggers.get(classification.sub_category)
    return (
        threshold is not None
        and classification.confidence >= threshold
        and classification.own_account
        and not classification.risk_flags
    )


class JsonlError(ValueError):
    """A malformed line in a JSON Lines file; the message names the file and the line."""

    def __init__(self, path: Path, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Read one JSON object per line (blank lines are skipped). Raises :class:`JsonlError` on a bad line."""
    path = Path(path)
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise JsonlError(path, number, f"invalid JSON: {exc.msg} (column {exc.colno})") from None
            if not isinstance(value, dict):
                raise JsonlError(path, number, f"expected a JSON object, got {type(value).__name__}")
            rows.append(value)
    return rows


def _field(row: Mapping[str, Any], name: str, index: int) -> Any:
    if name not in row:
        raise ValueError(f"row {row.get('id', index)!r}: missing field {name!r}")
    return row[name]


def _per_class(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, ClassMetrics]:
    labels = sorted({*gold, *predicted} - {ERROR_LABEL})
    result = {}
    for label in labels:
        true_positive = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p == label)
        predicted_count = sum(1 for p in predicted if p == label)
        support = sum(1 for g in gold if g == label)
        result[label] = ClassMetrics(
            ratio(true_positive, predicted_count), ratio(true_positive, support), support
        )
    return result


DecideResult = Callable[[ClassifierResult], bool]


def _classify_row(
    row: Mapping[str, Any],
    index: int,
    classify_fn: Callable[[TicketText], ClassifierResult],
    decide: DecideResult,
    *,
    labelled: bool,
) -> tuple[TicketOutcome, ClassifierResult | None]:
    ident = str(row.get("id", index))
    ticket = TicketText(
        subject=str(_field(row, "subject", index)),
        body=str(_field(row, "body", index)),
        requester_email=str(row.get("requester_email", "")),
    )
    common: dict[str, Any] = {
        "id": ident,
        "subject": ticket.subject,
        "language": language_of(row),
        "tags": tuple(str(t) for t in row.get("tags", ()) or ()),
    }
    if labelled:
        common["expected"] = bool(_field(row, "expected_automate", index))
        common["expected_sub_category"] = str(_field(row, "sub_category", index))
    try:
        result = classify_fn(ticket)
    except ClassificationError as exc:
        return TicketOutcome(**common, automated=False, sub_category=ERROR_LABEL, reasoning=str(exc)), None
    c = result.classification
    outcome = TicketOutcome(
        **common,
        automated=decide(result),
        sub_category=c.sub_category,
        confidence=c.confidence,
        risk_flags=tuple(f.value for f in c.risk_flags),
        reasoning=c.reasoning,
    )
    return outcome, result


def _decider(decide_fn: Callable[[Classification], bool], decide_result: DecideResult | None) -> DecideResult:
    return decide_result or (lambda result: decide_fn(result.classification))


def _classify_all(
    rows: Iterable[Mapping[str, Any]],
    classify_fn: Callable[[TicketText], ClassifierResult],
    decide: DecideResult,
    *,
    labelled: bool,
) -> tuple[list[TicketOutcome], str, str]:
    """Every row's outcome, and the classifier's name and version (from the first result)."""
    outcomes: list[TicketOutcome] = []
    name = version = ""
    for index, row in enumerate(rows):
        outcome, result = _classify_row(row, index, classify_fn, decide, labelled=labelled)
        outcomes.append(outcome)
        if result is not None:
            name, version = name or result.classifier, version or result.classifier_version
    return outcomes, name, version


def evaluate(
    rows: Iterable[Mapping[str, Any]],
    classify_fn: Callable[[TicketText], ClassifierResult],
    decide_fn: Callable[[Classification], bool] = automation_decision,
    *,
    decide_result: DecideResult | None = None,
) -> EvalReport:
    """Classify every row with ``classify_fn``, decide with ``decide_fn`` (or ``decide_result``, given the
    whole result), and compare with the labels.

    A :class:`ClassificationError` counts as a manual decision (and a miss for the sub-category)."""
    outcomes, name, version = _classify_all(
        rows, classify_fn, _decider(decide_fn, decide_result), labelled=True
    )
    automated = [o for o in outcomes if o.automated]
    false_automations = [o.id for o in automated if not o.expected]
    expected_total = sum(bool(o.expected) for o in outcomes)
    true_automations = len(automated) - len(false_automations)
    return EvalReport(
        automation=AutomationMetrics(
            precision=ratio(true_automations, len(automated)),
            recall=ratio(true_automations, expected_total),
            automated=len(automated),
            false_automations=tuple(false_automations),
            adversarial_automations=tuple(o.id for o in automated if o.adversarial),
        ),
        per_class=_per_class(
            [str(o.expected_sub_category) for o in outcomes], [o.sub_category for o in outcomes]
        ),
        n=len(outcomes),
        classifier=name,
        classifier_version=version,
        missed_automations=tuple(o.id for o in outcomes if o.expected and not o.automated),
        errors=tuple(o.id for o in outcomes if o.sub_category == ERROR_LABEL),
        outcomes=tuple(outcomes),
    )


def evaluate_unlabelled(
    rows: Iterable[Mapping[str, Any]],
    classify_fn: Callable[[TicketText], ClassifierResult],
    decide_fn: Callable[[Classification], bool] = automation_decision,
    *,
    decide_result: DecideResult | None = None,
) -> UnlabelledReport:
    """Classify and decide every row of a ticket history without labels: the automation rate and the
    tickets that would be automated, for a human to read."""
    outcomes, name, version = _classify_all(
        rows, classify_fn, _decider(decide_fn, decide_result), labelled=False
    )
    return UnlabelledReport(
        n=len(outcomes),
        classifier=name,
        classifier_version=version,
        outcomes=tuple(outcomes),
        errors=tuple(o.id for o in outcomes if o.sub_category == ERROR_LABEL),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Evaluate the offline classifier on a labelled JSON Lines file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("path", type=Path, help="labelled tickets, one JSON object per line")
    parser.add_argument("--json", action="store_true", help="print the JSON form instead of the text report")
    args = parser.parse_args(argv)
    from .offline import OfflineClassifier

    try:
        rows = read_jsonl(args.path)
    except (OSError, JsonlError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    classifier = OfflineClassifier()
    report = evaluate(rows, classifier.classify_sync, automation_decision)
    print(json.dumps(report.to_json(), indent=2) if args.json else report.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
