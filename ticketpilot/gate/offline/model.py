"""The offline classifier: TF-IDF (word + character n-grams), a calibrated linear model, and rules.

* ``sub_category``: a linear SVM (``LinearSVC``) whose scores are turned into probabilities by temperature
  scaling, fitted on held-out folds (``CalibratedClassifierCV``, 3 folds, averaged). Logistic regression
  gave the same accuracy but could not be trained within the 2 s budget on this feature set.
* ``category``: a second linear SVM on the same features.
* ``risk_flags`` and ``own_account``: the explicit, multilingual rules of :mod:`.rules`. (A learned detector
  per flag was tried: on held-out adversarial tickets it caught nothing the rules missed, and it held back
  legitimate requests, so flags stay rule-based and explainable.)

The model is trained from ``examples.jsonl`` at first use (well under 2 s) and cached in-process, keyed by
the file's SHA-256. Everything is deterministic (fixed ``random_state``); nothing is downloaded.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from ...config import DEFAULT_TAXONOMY
from ..classification import Classification, ClassificationError, ClassifierResult, RiskFlag, TicketText
from . import evidence, rules
from .text import TicketView, view

CODE_VERSION = "1"
"""Bump when features, rules or model settings change: it is part of :attr:`OfflineClassifier.version`."""
EXAMPLES_PATH = Path(__file__).with_name("examples.jsonl")
ACCOUNT_ACTIONS = frozenset({"PASSWORD_RESET", "ACCOUNT_LOCKOUT", "MFA_RESET"})
CATEGORIES = frozenset({"INCIDENT", "REQUEST", "QUESTION"})
RECOVERY_FAMILY = frozenset({"PASSWORD_RESET", "ACCOUNT_LOCKOUT"})
"""Sub-categories that one action resolves (a new credential): their probabilities are added up."""
RANDOM_STATE = 0
SVM_C = 0.5
CHAR_FEATURES = 15_000
CHAR_SPAN = 800
"""Character n-grams are taken from the first ``CHAR_SPAN`` characters (subject and request come first)."""
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


@dataclass(frozen=True)
class TrainingExample:
    """One row of ``examples.jsonl``."""

    subject: str
    body: str
    sub_category: str
    category: str
    own_account: bool
    risk_flags: tuple[RiskFlag, ...]


def parse_example(data: Any, where: str) -> TrainingExample:
    """Validate one decoded row; ``where`` (file:line) goes into the error."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a JSON object")
    missing = {"subject", "body", "sub_category", "category", "own_account", "risk_flags"} - data.keys()
    if missing:
        raise ValueError(f"{where}: missing field(s) {sorted(missing)}")
    if data["sub_category"] not in DEFAULT_TAXONOMY:
        raise ValueError(f"{where}: unknown sub_category {data['sub_category']!r}")
    if data["category"] not in CATEGORIES:
        raise ValueError(f"{where}: unknown category {data['category']!r}")
    if not isinstance(data["own_account"], bool) or not isinstance(data["risk_flags"], list):
        raise ValueError(f"{where}: own_account must be a boolean and risk_flags a list")
    try:
        flags = tuple(RiskFlag(f) for f in data["risk_flags"])
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return TrainingExample(
        str(data["subject"]),
        str(data["body"]),
        data["sub_category"],
        data["category"],
        data["own_account"],
        flags,
    )


def load_examples(path: Path = EXAMPLES_PATH) -> list[TrainingExample]:
    """Read and validate the training examples; errors name the file and line."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: invalid JSON ({exc.msg})") from None
        rows.append(parse_example(data, f"{path}:{number}"))
    if not rows:
        raise ValueError(f"{path}: no examples")
    return rows


def file_digest(path: Path = EXAMPLES_PATH) -> str:
    """SHA-256 of the examples file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def version_for(digest: str) -> str:
    """The classifier version: code version plus a short hash of the examples."""
    return f"{CODE_VERSION}.{digest[:10]}"


def _view(example: TrainingExample) -> TicketView:
    return view(example.subject, example.body)


@dataclass(frozen=True)
class Prediction:
    """The raw model output for one ticket, before the rules adjust it."""

    sub_category: str
    probability: float
    category: str
    top_terms: tuple[str, ...]
    family_probability: float = 0.0
    """For a sign-in recovery (password reset or lockout, both handled by one action), the probability of
    either; otherwise equal to ``probability``."""


_COMBINING = re.compile(r"[\u0300-\u036f]+")


def model_input(text: str) -> str:
    """Lower case without accents, done once so both vectorisers can skip it."""
    text = text.lower()
    return text if text.isascii() else _COMBINING.sub("", unicodedata.normalize("NFKD", text))


class FittedModel:
    """Vectorisers and linear classifiers fitted on a list of examples.

    Fitting uses scikit-learn. Prediction for a single ticket uses the fitted vocabularies, IDF weights,
    coefficients and temperatures directly (one sparse row times one weight matrix), which gives the same
    numbers as scikit-learn's ``predict_proba``/``decision_function`` without their per-call validation cost.
    """

    def __init__(self, examples: Sequence[TrainingExample]) -> None:
        # Imported here: scikit-learn is needed to train, not to import the classifier (fast service start).
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.model_selection import StratifiedKFold
        from sklearn.svm import LinearSVC

        texts = [model_input(_view(e).model_text) for e in examples]
        words = TfidfVectorizer(lowercase=False, ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_df=0.9)
        chars = TfidfVectorizer(
            analyzer="char_wb",
            lowercase=False,
            ngram_range=(3, 5),
            sublinear_tf=True,
            min_df=2,
            max_features=CHAR_FEATURES,
        )
        x = sparse.hstack(
            [words.fit_transform(texts), chars.fit_transform([t[:CHAR_SPAN] for t in texts])]
        ).tocsr()
        self.word_names = words.get_feature_names_out()
        self._analyzers = (words.build_analyzer(), chars.build_analyzer())
        self._vocab = (words.vocabulary_, chars.vocabulary_)
        self._idf = (words.idf_, chars.idf_)
        self._offset = len(words.vocabulary_)

        folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=RANDOM_STATE)
        self.sub = CalibratedClassifierCV(
            LinearSVC(C=SVM_C, random_state=RANDOM_STATE), method="temperature", cv=folds, ensemble=True
        )
        self.sub.fit(x, np.array([e.sub_category for e in examples]))
        self.labels: list[str] = [str(c) for c in self.sub.classes_]
        fold_models = [(c.estimator, float(c.calibrators[0].beta_)) for c in self.sub.calibrated_classifiers_]
        self.cat = LinearSVC(C=SVM_C, random_state=RANDOM_STATE).fit(x, [e.category for e in examples])

        # One weight matrix for every output: [fold 1 classes | fold 2 | fold 3 | categories].
        blocks = [m.coef_ for m, _beta in fold_models] + [self.cat.coef_]
        self._weights = np.ascontiguousarray(np.vstack(blocks).T)
        self._bias = np.concatenate([m.intercept_ for m, _b in fold_models] + [self.cat.intercept_])
        self._betas = [beta for _m, beta in fold_models]
        self._categories = [str(c) for c in self.cat.classes_]
        self.coef = np.mean([m.coef_ for m, _beta in fold_models], axis=0)

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The TF-IDF row for ``text`` as (column indices, values), both vectorisers side by side."""
        text = model_input(text)
        columns: list[int] = []
        values: list[float] = []
        for part, source in enumerate((text, text[:CHAR_SPAN])):
            counts: dict[int, int] = {}
            vocab = self._vocab[part]
            for token in self._analyzers[part](source):
                index = vocab.get(token)
                if index is not None:
                    counts[index] = counts.get(index, 0) + 1
            if not counts:
                continue
            idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
            weights = tf * self._idf[part][idx]
            weights /= np.sqrt(np.dot(weights, weights))
            columns.extend((idx + (self._offset if part else 0)).tolist())
            values.extend(weights.tolist())
        return np.asarray(columns, dtype=np.int64), np.asarray(values, dtype=np.float64)

    def features(self, text: str) -> sparse.csr_matrix:
        """The row as a sparse matrix (for scikit-learn's own methods, e.g. in tests)."""
        columns, values = self.row(text)
        width = self._weights.shape[0]
        return sparse.csr_matrix((values, columns, [0, len(columns)]), shape=(1, width))

    def predict(self, view: TicketView) -> Prediction:
        """Sub-category with its calibrated probability, the category and the strongest terms."""
        columns, values = self.row(view.model_text)
        scores = values @ self._weights[columns] + self._bias
        k = len(self.labels)
        probs = np.zeros(k)
        for fold, beta in enumerate(self._betas):
            logits = beta * scores[fold * k : (fold + 1) * k]
            exp = np.exp(logits - logits.max())
            probs += exp / exp.sum()
        probs /= len(self._betas)
        best = int(np.argmax(probs))
        cat_scores = scores[len(self._betas) * k :]
        family = float(probs[best])
        if self.labels[best] in RECOVERY_FAMILY:
            family = float(sum(probs[i] for i, label in enumerate(self.labels) if label in RECOVERY_FAMILY))
        return Prediction(
            sub_category=self.labels[best],
            probability=float(probs[best]),
            family_probability=family,
            category=self._categories[int(np.argmax(cat_scores))],
            top_terms=self._top_terms(columns, values, best),
        )

    def _top_terms(
        self, columns: np.ndarray, values: np.ndarray, best: int, limit: int = 4
    ) -> tuple[str, ...]:
        mask = columns < self._offset
        if not mask.any():
            return ()
        cols = columns[mask]
        contributions = values[mask] * self.coef[best][cols]
        order = np.argsort(-contributions)[:limit]
        return tuple(str(self.word_names[cols[i]]) for i in order if contributions[i] > 0)


_CACHE: dict[str, FittedModel] = {}
_LOCK = threading.Lock()


def fitted(path: Path = EXAMPLES_PATH) -> tuple[FittedModel, str]:
    """The model for ``path`` (trained on first use, then cached by file hash) and that hash."""
    digest = file_digest(path)
    with _LOCK:
        model = _CACHE.get(digest)
        if model is None:
            model = FittedModel(load_examples(path))
            _CACHE[digest] = model
    return model, digest


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

    def __init__(self, examples_path: Path | None = None) -> None:
        self.examples_path = examples_path or EXAMPLES_PATH
        self._fitted: FittedModel | None = None
        try:
            self.version = version_for(file_digest(self.examples_path))
        except OSError as exc:
            raise ClassificationError("model_unavailable", classifier=self.name, detail=str(exc)) from exc

    def warm_up(self) -> None:
        """Train (or fetch from the cache) now rather than on the first ticket."""
        self._model()

    def _model(self) -> FittedModel:
        if self._fitted is None:
            try:
                self._fitted, digest = fitted(self.examples_path)
            except (OSError, ValueError) as exc:
                raise ClassificationError("model_unavailable", classifier=self.name, detail=str(exc)) from exc
            self.version = version_for(digest)
        return self._fitted

    def classify_sync(self, ticket: TicketText) -> ClassifierResult:
        """Classify ``ticket``; raises :class:`ClassificationError` when there is nothing to classify."""
        if not ticket.subject.strip() and not ticket.body.strip():
            raise ClassificationError("empty_ticket", classifier=self.name, detail="no subject and no body")
        model = self._model()
        prepared = view(ticket.subject, ticket.body, ticket.requester_email)
        classification = decide(prepared, model.predict(prepared))
        return ClassifierResult(
            classification=classification, classifier=self.name, classifier_version=self.version
        )

    async def classify(self, ticket: TicketText) -> ClassifierResult:
        """The :class:`~ticketpilot.gate.classification.Classifier` protocol method. The one-off training
        (about a second) runs in a worker thread; classifying itself takes about a millisecond and runs inline."""
        if self._fitted is None:
            await asyncio.to_thread(self._model)
        return self.classify_sync(ticket)
