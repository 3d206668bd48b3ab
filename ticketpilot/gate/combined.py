"""A second opinion (``[llm] mode = "both"``): the LLM and the offline classifier classify every ticket.

A ticket is automated only when both map it to the same playbook and neither raises a risk flag. The
combined classification is conservative by construction: the LLM's category and sub-category, the *lower*
confidence, ``own_account`` only when both say so, and the union of both sets of risk flags (so either
classifier's flag blocks). Both verdicts are kept (``SecondOpinion.verdicts``) and written into the
reasoning, so the stored decision, the HaloPSA note and the decision API show what each one said.

Whether the two agree on the *playbook* depends on the playbook registry, which the classifier does not
know: the gate asks :func:`check_agreement` with its own ``playbook_of`` after the decision, and a
disagreement is the blocker ``classifiers_disagree`` naming both verdicts.

Either classifier failing fails the pair (the LLM's error first, so a throttled LLM is retried like any
throttling); the ticket then stays manual.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ticketpilot.gate.blockers import Blocker, BlockerName
from ticketpilot.gate.classification import Classification, Classifier, ClassifierResult, TicketText
from ticketpilot.gate.decision import Decision, Outcome
from ticketpilot.gate.facts import ClassifierFailure

NAME = "both"
_VERDICT_REASONING_MAX = 800


class SecondOpinion(ClassifierResult):
    """The combined result; ``verdicts`` are the LLM's and the offline classifier's own, in that order."""

    verdicts: tuple[ClassifierResult, ...]


class CombinedClassifier:
    """:class:`~ticketpilot.gate.classification.Classifier` asking ``primary`` (the LLM) and ``second``
    (the offline model) concurrently."""

    name = NAME

    def __init__(self, primary: Classifier, second: Classifier) -> None:
        self._primary = primary
        self._second = second
        self._pinned_version = ""

    def __repr__(self) -> str:
        return f"CombinedClassifier({self._primary!r}, {self._second!r})"

    @property
    def version(self) -> str:
        # The offline model's version is known once it is loaded: read it each time.
        return self._pinned_version or f"{self._primary.version}+{self._second.version}"

    @version.setter
    def version(self, value: str) -> None:
        self._pinned_version = value

    def warm_up(self) -> None:
        for classifier in (self._primary, self._second):
            warm_up: Any = getattr(classifier, "warm_up", None)
            if warm_up is not None:
                warm_up()

    async def aclose(self) -> None:
        for classifier in (self._primary, self._second):
            aclose: Any = getattr(classifier, "aclose", None)
            if aclose is not None:
                await aclose()

    async def classify(self, ticket: TicketText) -> SecondOpinion:
        """Both verdicts, merged; raises the first failure (the LLM's before the offline model's)."""
        results = await asyncio.gather(
            self._primary.classify(ticket), self._second.classify(ticket), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        first, second = results
        assert isinstance(first, ClassifierResult) and isinstance(second, ClassifierResult)
        return SecondOpinion(
            classification=merge(first, second),
            classifier=self.name,
            classifier_version=f"{first.classifier_version}+{second.classifier_version}",
            verdicts=(first, second),
        )


def merge(first: ClassifierResult, second: ClassifierResult) -> Classification:
    """``first``'s category and sub-category; the lower confidence; own account only if both; every flag."""
    a, b = first.classification, second.classification
    flags = tuple(dict.fromkeys((*a.risk_flags, *b.risk_flags)))
    return Classification(
        category=a.category,
        sub_category=a.sub_category,
        confidence=min(a.confidence, b.confidence),
        reasoning=" | ".join(describe(v) for v in (first, second))[:2_000],
        own_account=a.own_account and b.own_account,
        risk_flags=flags,
    )


def describe(verdict: ClassifierResult) -> str:
    """One verdict in one line: who, what, how sure, own account, flags, why."""
    c = verdict.classification
    flags = ", ".join(f.value for f in c.risk_flags) or "none"
    own = "own account" if c.own_account else "not own account"
    why = c.reasoning[:_VERDICT_REASONING_MAX] or "(no reasoning)"
    return (
        f"{verdict.classifier} ({verdict.classifier_version}): {c.sub_category} {c.confidence:.2f},"
        f" {own}, risk flags: {flags} — {why}"
    )


def check_agreement(
    classified: ClassifierResult | ClassifierFailure, playbook_of: Callable[[str], str | None]
) -> list[Blocker]:
    """``classifiers_disagree`` when the two verdicts lead to different playbooks (or one to none)."""
    if not isinstance(classified, SecondOpinion):
        return []
    verdicts = classified.verdicts
    playbooks = [playbook_of(v.classification.sub_category) for v in verdicts]
    if len(set(playbooks)) <= 1:
        return []
    detail = " vs ".join(
        f"{v.classifier}: {v.classification.sub_category} → {p or 'no playbook'}"
        for v, p in zip(verdicts, playbooks, strict=True)
    )
    return [Blocker(BlockerName.CLASSIFIERS_DISAGREE, detail[:500])]


def with_second_opinion(
    decision: Decision,
    classified: ClassifierResult | ClassifierFailure,
    playbook_of: Callable[[str], str | None],
) -> Decision:
    """``decision`` with the disagreement blocker added: then it is manual, whatever it was."""
    extra = check_agreement(classified, playbook_of)
    if not extra:
        return decision
    return Decision(Outcome.MANUAL, decision.candidate, (*decision.blockers, *extra))
