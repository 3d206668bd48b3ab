"""The offline ticket classifier: a small scikit-learn model plus conservative, multilingual risk rules."""

from .model import OfflineClassifier

__all__ = ["OfflineClassifier"]
