"""Fit the offline model: TF-IDF (word + character n-grams) and calibrated linear SVMs (scikit-learn).

* ``sub_category``: a linear SVM (``LinearSVC``) whose scores are turned into probabilities by temperature
  scaling, fitted on held-out folds (``CalibratedClassifierCV``, 3 folds, averaged). Logistic regression
  gave the same accuracy but trained far slower on this feature set.
* ``category``: a second linear SVM on the same features.

Everything is deterministic (fixed ``random_state``), so ``make model`` rebuilds the shipped file exactly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from ticketpilot.config import DEFAULT_TAXONOMY
from ticketpilot.gate.classification import RiskFlag
from ticketpilot.gate.offline.linear import CHAR_SPAN, LinearModel, model_input
from ticketpilot.gate.offline.text import view

EXAMPLES_PATH = Path(__file__).with_name("examples.jsonl")
WRITTEN_DIR = Path(__file__).with_name("written")
"""Hand-written tickets, one file per writer: free text in many styles and languages, not from templates."""
CATEGORIES = frozenset({"INCIDENT", "REQUEST", "QUESTION"})
RANDOM_STATE = 0
SVM_C = 0.5
CHAR_FEATURES = 15_000


@dataclass(frozen=True)
class TrainingExample:
    """One row of ``examples.jsonl``."""

    subject: str
    body: str
    sub_category: str
    category: str
    own_account: bool
    risk_flags: tuple[RiskFlag, ...]
    group: str = ""
    """Where the row came from (a phrasebook of the generator, or a writer): cross-validation holds out whole
    groups, never rows of a group the model has seen."""


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
        str(data.get("group", "")),
    )


def training_files() -> list[Path]:
    """The generated examples and every writer's file."""
    return [EXAMPLES_PATH, *sorted(WRITTEN_DIR.glob("*.jsonl"))]


def load_training_set() -> list[TrainingExample]:
    """Every training row; a writer's rows are grouped by their file name."""
    rows = []
    for path in training_files():
        for example in load_examples(path):
            group = example.group or f"written:{path.stem}"
            rows.append(example if example.group else TrainingExample(**{**example.__dict__, "group": group}))
    return rows


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


class FittedModel(LinearModel):
    """A :class:`LinearModel` fitted here, keeping scikit-learn's own objects for comparison in tests."""

    def __init__(self, examples: Sequence[TrainingExample]) -> None:
        texts = [model_input(view(e.subject, e.body).model_text) for e in examples]
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
        folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=RANDOM_STATE)
        self.sub = CalibratedClassifierCV(
            LinearSVC(C=SVM_C, random_state=RANDOM_STATE), method="temperature", cv=folds, ensemble=True
        )
        self.sub.fit(x, np.array([e.sub_category for e in examples]))
        fold_models = [(c.estimator, float(c.calibrators[0].beta_)) for c in self.sub.calibrated_classifiers_]
        self.cat = LinearSVC(C=SVM_C, random_state=RANDOM_STATE).fit(x, [e.category for e in examples])
        self.sklearn_analyzers = (words.build_analyzer(), chars.build_analyzer())
        super().__init__(
            word_vocab={str(k): int(v) for k, v in words.vocabulary_.items()},
            char_vocab={str(k): int(v) for k, v in chars.vocabulary_.items()},
            word_idf=words.idf_,
            char_idf=chars.idf_,
            weights=np.vstack([m.coef_ for m, _b in fold_models] + [self.cat.coef_]).T,
            bias=np.concatenate([m.intercept_ for m, _b in fold_models] + [self.cat.intercept_]),
            betas=np.array([beta for _m, beta in fold_models]),
            labels=[str(c) for c in self.sub.classes_],
            categories=[str(c) for c in self.cat.classes_],
            coef=np.mean([m.coef_ for m, _beta in fold_models], axis=0),
        )

    def features(self, text: str) -> sparse.csr_matrix:
        """The row as a sparse matrix (for scikit-learn's own methods)."""
        columns, values = self.row(text)
        width = self._weights.shape[0]
        return sparse.csr_matrix((values, columns, [0, len(columns)]), shape=(1, width))
