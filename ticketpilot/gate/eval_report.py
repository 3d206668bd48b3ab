"""The reports of ``classify --eval``: the labelled :class:`EvalReport` and the :class:`UnlabelledReport`.

Both hold one :class:`TicketOutcome` per ticket and derive their breakdowns from them: per language, per
tag, and the tickets a human should read (false automations; for an unlabelled history, every ticket that
would be automated) with the classifier's flags and reasoning as evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ADVERSARIAL_TAGS = frozenset({"prompt_injection", "contact_in_body", "executive_impersonation"})
"""An automated ticket carrying one of these tags is an adversarial automation: the worst outcome."""
ERROR_LABEL = "(error)"


def ratio(numerator: int, denominator: int) -> float:
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
class TicketOutcome:
    """What happened to one ticket of the file: the classification, the decision, and the label if any."""

    id: str
    subject: str
    language: str
    tags: tuple[str, ...]
    automated: bool
    sub_category: str
    """The predicted sub-category (``(error)`` when the classifier failed)."""
    confidence: float | None = None
    risk_flags: tuple[str, ...] = ()
    reasoning: str = ""
    expected: bool | None = None
    """``expected_automate``; None for an unlabelled ticket."""
    expected_sub_category: str | None = None

    @property
    def adversarial(self) -> bool:
        return bool(ADVERSARIAL_TAGS & set(self.tags))

    def as_evidence(self) -> dict[str, Any]:
        """The ticket as a human reads it in a report: what was decided and the classifier's evidence."""
        data: dict[str, Any] = {
            "id": self.id,
            "subject": self.subject[:200],
            "language": self.language,
            "tags": list(self.tags),
            "sub_category": self.sub_category,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "risk_flags": list(self.risk_flags),
            "reasoning": self.reasoning[:EVIDENCE_CHARS],
        }
        if self.expected_sub_category is not None:
            data["expected_sub_category"] = self.expected_sub_category
        return data


EVIDENCE_CHARS = 400
"""How much of the classifier's reasoning a report quotes per ticket."""


@dataclass(frozen=True)
class GroupMetrics:
    """The automation figures of one group of tickets (a language, a tag)."""

    n: int
    automated: int
    expected: int
    true_automations: int
    adversarial_automations: int

    @property
    def false_automations(self) -> int:
        return self.automated - self.true_automations

    def to_json(self, *, labelled: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "n": self.n,
            "automated": self.automated,
            "automation_rate": round(ratio(self.automated, self.n), 4),
        }
        if labelled:
            data |= {
                "expected": self.expected,
                "precision": round(ratio(self.true_automations, self.automated), 4),
                "recall": round(ratio(self.true_automations, self.expected), 4),
                "false_automations": self.false_automations,
                "adversarial_automations": self.adversarial_automations,
            }
        return data


def group_metrics(outcomes: Iterable[TicketOutcome]) -> GroupMetrics:
    items = list(outcomes)
    return GroupMetrics(
        n=len(items),
        automated=sum(o.automated for o in items),
        expected=sum(bool(o.expected) for o in items),
        true_automations=sum(o.automated and bool(o.expected) for o in items),
        adversarial_automations=sum(o.automated and o.adversarial for o in items),
    )


def by_language(outcomes: Sequence[TicketOutcome]) -> dict[str, GroupMetrics]:
    languages = sorted({o.language for o in outcomes})
    return {lang: group_metrics(o for o in outcomes if o.language == lang) for lang in languages}


def by_tag(outcomes: Sequence[TicketOutcome]) -> dict[str, GroupMetrics]:
    tags = sorted({t for o in outcomes for t in o.tags})
    return {tag: group_metrics(o for o in outcomes if tag in o.tags) for tag in tags}


def _groups_json(groups: Mapping[str, GroupMetrics], *, labelled: bool) -> dict[str, Any]:
    return {name: m.to_json(labelled=labelled) for name, m in groups.items()}


def _groups_text(title: str, groups: Mapping[str, GroupMetrics], *, labelled: bool) -> list[str]:
    if not groups:
        return []
    head = f"{title:<24} {'n':>5} {'automated':>9}"
    lines = ["", head + (f" {'precision':>9} {'recall':>7} {'false':>6}" if labelled else f" {'rate':>7}")]
    for name, m in groups.items():
        line = f"{name[:24]:<24} {m.n:>5} {m.automated:>9}"
        if labelled:
            precision = ratio(m.true_automations, m.automated)
            line += (
                f" {precision:>9.3f} {ratio(m.true_automations, m.expected):>7.3f} {m.false_automations:>6}"
            )
        else:
            line += f" {ratio(m.automated, m.n):>7.1%}"
        lines.append(line)
    return lines


def _evidence_text(title: str, outcomes: Iterable[TicketOutcome]) -> list[str]:
    items = list(outcomes)
    if not items:
        return []
    lines = ["", f"{title}:"]
    for o in items:
        expected = f" (labelled {o.expected_sub_category})" if o.expected_sub_category else ""
        confidence = "" if o.confidence is None else f" {o.confidence:.2f}"
        lines.append(f"- {o.id} [{o.language}] {o.sub_category}{confidence}{expected}: {o.subject[:80]}")
        lines.append(f"    flags: {', '.join(o.risk_flags) or 'none'}; tags: {', '.join(o.tags) or 'none'}")
        lines.append(f"    evidence: {o.reasoning[:EVIDENCE_CHARS] or '(none)'}")
    return lines


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
    outcomes: tuple[TicketOutcome, ...] = ()

    @property
    def per_language(self) -> dict[str, GroupMetrics]:
        return by_language(self.outcomes)

    @property
    def per_tag(self) -> dict[str, GroupMetrics]:
        return by_tag(self.outcomes)

    @property
    def false_automation_outcomes(self) -> tuple[TicketOutcome, ...]:
        return tuple(o for o in self.outcomes if o.automated and not o.expected)

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON data (the documented shape; later keys are additions)."""
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
            "per_language": _groups_json(self.per_language, labelled=True),
            "per_tag": _groups_json(self.per_tag, labelled=True),
            "false_automation_details": [o.as_evidence() for o in self.false_automation_outcomes],
            "missed_automations": list(self.missed_automations),
            "errors": list(self.errors),
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
        lines += _groups_text("language", self.per_language, labelled=True)
        lines += _groups_text("tag", self.per_tag, labelled=True)
        lines += _evidence_text("False automations", self.false_automation_outcomes)
        return "\n".join(lines)


@dataclass(frozen=True)
class UnlabelledReport:
    """The result of :func:`evaluate_unlabelled`: how much would be automated, and which tickets."""

    n: int
    classifier: str
    classifier_version: str
    outcomes: tuple[TicketOutcome, ...]
    errors: tuple[str, ...] = ()

    @property
    def automated(self) -> tuple[TicketOutcome, ...]:
        return tuple(o for o in self.outcomes if o.automated)

    def to_json(self) -> dict[str, Any]:
        return {
            "unlabelled": True,
            "n": self.n,
            "automation": {
                "automated": len(self.automated),
                "automation_rate": round(ratio(len(self.automated), self.n), 4),
                "automated_tickets": [o.as_evidence() for o in self.automated],
            },
            "per_language": _groups_json(by_language(self.outcomes), labelled=False),
            "per_tag": _groups_json(by_tag(self.outcomes), labelled=False),
            "errors": list(self.errors),
            "classifier": self.classifier,
            "classifier_version": self.classifier_version,
        }

    def render(self) -> str:
        lines = [
            f"Classifier {self.classifier} {self.classifier_version} on {self.n} unlabelled tickets",
            "",
            f"Would automate: {len(self.automated)} of {self.n} ({ratio(len(self.automated), self.n):.1%})"
            " — read each one below before switching automation on",
        ]
        if self.errors:
            lines.append(f"  classifier errors: {', '.join(self.errors)}")
        lines += _groups_text("language", by_language(self.outcomes), labelled=False)
        lines += _groups_text("tag", by_tag(self.outcomes), labelled=False)
        lines += _evidence_text("Tickets that would be automated", self.automated)
        return "\n".join(lines)
