"""The offline classifier: the shipped linear model (:mod:`.linear`) checked by deterministic rules.

The gate abstains by default. An account action is automated only when

* the model's best sub-category is an account action (its calibrated probability is the confidence),
* the newest message carries positive evidence of an explicit request to reset, unlock or re-register the
  requester's own sign-in (:mod:`.evidence`), as a request to act now, and
* no risk flag is raised: the multilingual phrase rules (:mod:`.rules`), the sentences that weaken the
  automation (:mod:`.intents`), the stories of compromise (:mod:`.narratives`) and the structural detectors
  (:mod:`.structure`) each name their flag and keep their evidence for the decision's reasoning.

When strong, explicit evidence and the model's best sub-category agree and nothing else is wrong, the
confidence is raised to :data:`EVIDENCE_FLOOR` (terse requests leave the model unsure between neighbouring
classes); without evidence it is capped at :data:`ABSTAIN_CAP`. Nothing is trained at run time.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from ..classification import Classification, ClassificationError, ClassifierResult, RiskFlag, TicketText
from . import evidence, rules
from .linear import MODEL_PATH, LinearModel, Prediction, file_digest
from .text import TicketView, view

CODE_VERSION = "2"
"""Bump when features, rules or thresholds change: it is part of :attr:`OfflineClassifier.version`."""
ACCOUNT_ACTIONS = frozenset({"PASSWORD_RESET", "ACCOUNT_LOCKOUT", "MFA_RESET"})
ABSTAIN_CAP = 0.5
"""Confidence ceiling for an account action without positive evidence (an explicit request to reset, unlock
or re-register the sign-in, as a request to act now), or when the ticket can't be checked in full."""
EVIDENCE_FLOOR = 0.9
"""Confidence when the model's best sub-category and strong, explicit evidence agree and nothing else is wrong
(terse requests such as "reset my pw pls" leave the model unsure between neighbouring classes)."""
EVIDENCE_MIN_PROBABILITY = 0.5
"""... but only when the model itself gives its best sub-category at least this probability."""
EVIDENCE_FAMILIES: dict[str, frozenset[str]] = {
    "password": frozenset({"PASSWORD_RESET", "ACCOUNT_LOCKOUT"}),
    "lockout": frozenset({"PASSWORD_RESET", "ACCOUNT_LOCKOUT"}),
    "mfa": frozenset({"MFA_RESET"}),
}
CONFLICT_FACTOR = 0.6
"""Confidence multiplier for an account action when risk flags conflict with it."""


def version_for(digest: str) -> str:
    """The classifier version: code version plus a short hash of the model file."""
    return f"{CODE_VERSION}.{digest[:10]}"


def decide(view: TicketView, prediction: Prediction) -> Classification:
    """Combine the model's prediction with the rules into the final, conservative classification.

    Confidence is the calibrated probability of the chosen sub-category, lowered for an account action when
    risk flags conflict with it, when no work system is named, when the password is said to work, or when
    the ticket is too long to check. ``own_account`` is False when anything points at someone else's, a
    shared, or an unverifiable account (for tickets about no account at all it carries no information)."""
    found = rules.detect(view)
    asked = evidence.find(view)
    if asked.not_a_request is not None:
        found.add(RiskFlag.NOT_A_REQUEST, asked.not_a_request)
    confidence = prediction.family_probability or prediction.probability
    notes = []
    if prediction.sub_category in ACCOUNT_ACTIONS:
        if found.flags or not found.own_account:
            confidence *= CONFLICT_FACTOR
        if not asked.actions:
            confidence = min(confidence, ABSTAIN_CAP)
            notes.append("no explicit request to reset, unlock or re-register the sign-in")
        else:
            notes.append(f"asks for: {', '.join(asked.actions)} ({asked.snippet!r})")
            if not asked.strong and not found.work_system_named:
                confidence = min(confidence, ABSTAIN_CAP)
                notes.append("only a symptom, and the work sign-in is not named")
            agrees = any(prediction.sub_category in EVIDENCE_FAMILIES.get(a, ()) for a in asked.actions)
            if (
                asked.strong
                and agrees
                and prediction.family_probability >= EVIDENCE_MIN_PROBABILITY
                and not found.flags
                and found.own_account
                and not view.truncated
            ):
                confidence = max(confidence, EVIDENCE_FLOOR)
        if view.truncated:
            confidence = min(confidence, ABSTAIN_CAP)
            notes.append("the ticket is too long to check in full")
        if found.password_works is not None:
            confidence = min(confidence, ABSTAIN_CAP)
            notes.append(f"the password is said to work ({found.password_works!r})")
    if found.personal_sender:
        notes.append("sent from a personal address")
    flags = tuple(sorted(found.flags, key=list(RiskFlag).index))
    return Classification(
        category=prediction.category,
        sub_category=prediction.sub_category,
        confidence=round(min(max(confidence, 0.0), 1.0), 4),
        reasoning=_reasoning(prediction, found, notes),
        own_account=found.own_account,
        risk_flags=flags,
    )


def _reasoning(prediction: Prediction, found: rules.RuleFindings, notes: list[str]) -> str:
    terms = ", ".join(f"'{t}'" for t in prediction.top_terms) or "no strong terms"
    text = f"{prediction.sub_category} (p={prediction.probability:.2f}) from {terms}."
    if found.flags:
        evidence = "; ".join(f"{flag.value} ({found.flags[flag][0]!r})" for flag in found.flags)
        text += f" Risk: {evidence}."
    else:
        text += " No risk signals found."
    if notes:
        text += " Note: " + ", ".join(notes) + "."
    return text[:1_900]


class OfflineClassifier:
    """The classifier used when no LLM is configured. CPU work is about a millisecond, so it runs inline."""

    name = "offline"

    def __init__(self, model_path: Path | None = None) -> None:
        self.model_path = model_path or MODEL_PATH
        self._model: LinearModel | None = None
        try:
            self.version = version_for(file_digest(self.model_path))
        except OSError as exc:
            raise ClassificationError("model_unavailable", classifier=self.name, detail=str(exc)) from exc

    def warm_up(self) -> None:
        """Load the model now rather than on the first ticket."""
        self.model()

    def model(self) -> LinearModel:
        """The loaded model (read from disk once)."""
        if self._model is None:
            try:
                self._model = _load(self.model_path)
            except (OSError, ValueError, KeyError) as exc:
                raise ClassificationError("model_unavailable", classifier=self.name, detail=str(exc)) from exc
        return self._model

    def classify_sync(self, ticket: TicketText) -> ClassifierResult:
        """Classify ``ticket``; raises :class:`ClassificationError` when there is nothing to classify."""
        if not ticket.subject.strip() and not ticket.body.strip():
            raise ClassificationError("empty_ticket", classifier=self.name, detail="no subject and no body")
        model = self.model()
        prepared = view(ticket.subject, ticket.body, ticket.requester_email)
        classification = decide(prepared, model.predict_text(prepared.model_text))
        return ClassifierResult(
            classification=classification, classifier=self.name, classifier_version=self.version
        )

    async def classify(self, ticket: TicketText) -> ClassifierResult:
        """The :class:`~ticketpilot.gate.classification.Classifier` protocol method. Loading the model (once,
        well under a second) runs in a worker thread; classifying takes about a millisecond and runs inline."""
        if self._model is None:
            await asyncio.to_thread(self.model)
        return self.classify_sync(ticket)


_LOADED: dict[Path, tuple[float, LinearModel]] = {}


def _load(path: Path) -> LinearModel:
    """One loaded model per file (and modification time) per process."""
    stamp = path.stat().st_mtime
    cached = _LOADED.get(path)
    if cached is None or cached[0] != stamp:
        cached = (stamp, LinearModel.load(path))
        _LOADED[path] = cached
    return cached[1]
