"""Measure a classifier on labelled tickets: per-sub-category precision/recall and the automation decision.

The labelled file (JSON Lines) has one ticket per line with at least ``id``, ``subject``, ``body``,
``requester_email``, ``sub_category``, ``expected_automate`` and ``tags``. A ratio whose denominator is zero
is reported as 0.0 (scikit-learn's ``zero_division=0``): no automation is never reported as "perfect".

Run ``python -m ticketpilot.gate.evaluation FILE [--json]`` to evaluate the offline classifier.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .classification import Classification, ClassificationError, ClassifierResult, TicketText

DEFAULT_TRIGGERS: Mapping[str, float] = MappingProxyType(
    {"PASSWORD_RESET": 0.8, "ACCOUNT_LOCKOUT": 0.8, "MFA_RESET": 0.8}
)
"""The shipped playbooks' trigger sub-categories and their confidence thresholds."""
ADVERSARIAL_TAGS = frozenset({"prompt_injection", "contact_in_body", "executive_impersonation"})
"""An automated ticket carrying one of these tags is an adversarial automation: the worst outcome."""
ERROR_LABEL = "(error)"


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


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


@dataclass(frozen=True)
class ClassMetrics:
    """Precision and recall of one sub-category; ``support`` is the number of labelled tickets."""

    precision: float
    recall: float
    support: int


@dataclass(frozen=True)
class AutomationMetrics:
    """How the automation decision compares with ``expected_automate``."""

    precision: float
    recall: float
    automated: int
    false_automations: tuple[str, ...]
    adversarial_automations: tuple[str, ...]


@dataclass(frozen=True)
class EvalReport:
    """The result of :func:`evaluate`."""

    automation: AutomationMetrics
    per_class: dict[str, ClassMetrics]
    n: int
    classifier: str
    classifier_version: str
    missed_automations: tuple[str, ...] = ()
    errors: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON data (the documented shape)."""
        a = self.automation
        return {
            "automation": {
                "precision": round(a.precision, 4),
                "recall": round(a.recall, 4),
                "automated": a.automated,
                "false_automations": list(a.false_automations),
                "adversarial_automations": list(a.adversarial_automations),
            },
            "per_class": {
                label: {
                    "precision": round(m.precision, 4),
                    "recall": round(m.recall, 4),
                    "support": m.support,
                }
                for label, m in self.per_class.items()
            },
            "n": self.n,
            "classifier": self.classifier,
            "classifier_version": self.classifier_version,
        }

    def render(self) -> str:
        """A plain-text report for a terminal."""
        a = self.automation
        lines = [
            f"Classifier {self.classifier} {self.classifier_version} on {self.n} tickets",
            "",
            f"Automation: precision {a.precision:.3f}  recall {a.recall:.3f}  automated {a.automated}",
            f"  false automations:       {', '.join(a.false_automations) or 'none'}",
            f"  adversarial automations: {', '.join(a.adversarial_automations) or 'none'}",
            f"  missed automations:      {', '.join(self.missed_automations) or 'none'}",
        ]
        if self.errors:
            lines.append(f"  classifier errors:       {', '.join(self.errors)}")
        lines += ["", f"{'sub_category':<20} {'precision':>9} {'recall':>7} {'support':>8}"]
        for label, m in self.per_class.items():
            lines.append(f"{label:<20} {m.precision:>9.3f} {m.recall:>7.3f} {m.support:>8}")
        return "\n".join(lines)


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
            _ratio(true_positive, predicted_count), _ratio(true_positive, support), support
        )
    return result


def evaluate(
    rows: Iterable[Mapping[str, Any]],
    classify_fn: Callable[[TicketText], ClassifierResult],
    decide_fn: Callable[[Classification], bool],
) -> EvalReport:
    """Classify every row with ``classify_fn``, decide with ``decide_fn``, and compare with the labels.

    A :class:`ClassificationError` counts as a manual decision (and a miss for the sub-category)."""
    gold: list[str] = []
    predicted: list[str] = []
    automated: list[str] = []
    false_automations: list[str] = []
    adversarial: list[str] = []
    missed: list[str] = []
    errors: list[str] = []
    expected_total = 0
    name = version = ""
    for index, row in enumerate(rows):
        ident = str(row.get("id", index))
        ticket = TicketText(
            subject=str(_field(row, "subject", index)),
            body=str(_field(row, "body", index)),
            requester_email=str(row.get("requester_email", "")),
        )
        expected = bool(_field(row, "expected_automate", index))
        gold.append(str(_field(row, "sub_category", index)))
        expected_total += expected
        try:
            result = classify_fn(ticket)
        except ClassificationError:
            errors.append(ident)
            predicted.append(ERROR_LABEL)
            missed += [ident] if expected else []
            continue
        name, version = name or result.classifier, version or result.classifier_version
        predicted.append(result.classification.sub_category)
        if decide_fn(result.classification):
            automated.append(ident)
            if not expected:
                false_automations.append(ident)
            if ADVERSARIAL_TAGS & set(row.get("tags", ())):
                adversarial.append(ident)
        elif expected:
            missed.append(ident)
    true_automations = len(automated) - len(false_automations)
    return EvalReport(
        automation=AutomationMetrics(
            precision=_ratio(true_automations, len(automated)),
            recall=_ratio(true_automations, expected_total),
            automated=len(automated),
            false_automations=tuple(false_automations),
            adversarial_automations=tuple(adversarial),
        ),
        per_class=_per_class(gold, predicted),
        n=len(gold),
        classifier=name,
        classifier_version=version,
        missed_automations=tuple(missed),
        errors=tuple(errors),
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
