"""The offline ticket classifier: a shipped linear model checked by conservative, multilingual rules and
structural detectors (built by `make model` from `training/`)."""

from .model import OfflineClassifier

__all__ = ["OfflineClassifier"]
