"""The shipped offline model: TF-IDF features and calibrated linear classifiers, as plain arrays.

The model is built from the training set outside the runtime package (``make model``, see ``training/``) and
shipped as one ``.npz`` file. At run time nothing is trained and scikit-learn is not imported: a ticket's
features are computed with the same analyzers scikit-learn used to fit (word 1-2-grams, character 3-5-grams
within word boundaries), then one sparse row times one weight matrix gives every score.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

CHAR_SPAN = 800
"""Character n-grams are taken from the first ``CHAR_SPAN`` characters (subject and request come first)."""
RECOVERY_FAMILY = frozenset({"PASSWORD_RESET", "ACCOUNT_LOCKOUT"})
"""Sub-categories that one action resolves (a new credential): their probabilities are added up."""
MODEL_PATH = Path(__file__).with_name("offline-model.npz")

_COMBINING = re.compile(r"[\u0300-\u036f]+")
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_WHITESPACE = re.compile(r"\s\s+")


def model_input(text: str) -> str:
    """Lower case without accents, done once so both vectorisers can skip it."""
    text = text.lower()
    return text if text.isascii() else _COMBINING.sub("", unicodedata.normalize("NFKD", text))


def word_ngrams(text: str) -> list[str]:
    """scikit-learn's word analyzer with ``ngram_range=(1, 2)`` and its default token pattern."""
    tokens = _TOKEN.findall(text)
    return tokens + [f"{a} {b}" for a, b in pairwise(tokens)]


def char_wb_ngrams(text: str, low: int = 3, high: int = 5) -> list[str]:
    """scikit-learn's ``char_wb`` analyzer: n-grams inside words padded with one space each side."""
    grams: list[str] = []
    for word in _WHITESPACE.sub(" ", text).split():
        padded = f" {word} "
        for n in range(low, high + 1):
            offset = 0
            grams.append(padded[offset : offset + n])
            while offset + n < len(padded):
                offset += 1
                grams.append(padded[offset : offset + n])
            if offset == 0:  # the word is shorter than n: counted once
                break
    return grams


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


class LinearModel:
    """Vocabularies, IDF weights, one weight matrix for every output, and the calibration temperatures.

    Columns of ``weights``: ``folds`` blocks of one column per sub-category (each block a calibrated fold,
    averaged as scikit-learn's ``CalibratedClassifierCV(ensemble=True)`` does), then one column per category.
    """

    def __init__(
        self,
        *,
        word_vocab: dict[str, int],
        char_vocab: dict[str, int],
        word_idf: np.ndarray,
        char_idf: np.ndarray,
        weights: np.ndarray,
        bias: np.ndarray,
        betas: np.ndarray,
        labels: list[str],
        categories: list[str],
        coef: np.ndarray,
    ) -> None:
        self._vocab = (word_vocab, char_vocab)
        self._idf = (word_idf, char_idf)
        self._analyzers: tuple[Callable[[str], list[str]], ...] = (word_ngrams, char_wb_ngrams)
        self._offset = len(word_vocab)
        self._weights = np.ascontiguousarray(weights, dtype=np.float64)
        self._bias = np.asarray(bias, dtype=np.float64)
        self._betas = [float(b) for b in betas]
        self.labels = labels
        self._categories = categories
        self.coef = np.asarray(coef, dtype=np.float64)
        self.word_names = [""] * len(word_vocab)
        for term, index in word_vocab.items():
            self.word_names[index] = term

    # --- persistence ----------------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the model as one compressed ``.npz`` (no pickles)."""
        words = sorted(self._vocab[0], key=self._vocab[0].__getitem__)
        chars = sorted(self._vocab[1], key=self._vocab[1].__getitem__)
        with path.open("wb") as handle:
            np.savez_compressed(
                handle,
                word_terms=np.array(words),
                char_terms=np.array(chars),
                word_idf=self._idf[0].astype(np.float32),
                char_idf=self._idf[1].astype(np.float32),
                weights=self._weights.astype(np.float32),
                bias=self._bias,
                betas=np.array(self._betas),
                labels=np.array(self.labels),
                categories=np.array(self._categories),
                coef=self.coef.astype(np.float32),
            )

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        """Read a model written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            words = [str(t) for t in data["word_terms"]]
            chars = [str(t) for t in data["char_terms"]]
            return cls(
                word_vocab={t: i for i, t in enumerate(words)},
                char_vocab={t: i for i, t in enumerate(chars)},
                word_idf=data["word_idf"].astype(np.float64),
                char_idf=data["char_idf"].astype(np.float64),
                weights=data["weights"],
                bias=data["bias"],
                betas=data["betas"],
                labels=[str(x) for x in data["labels"]],
                categories=[str(x) for x in data["categories"]],
                coef=data["coef"],
            )

    # --- prediction -----------------------------------------------------------------------------------------

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

    def predict_text(self, text: str) -> Prediction:
        """Sub-category with its calibrated probability, the category and the strongest terms."""
        columns, values = self.row(text)
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


def file_digest(path: Path) -> str:
    """SHA-256 of a model file: its version."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
