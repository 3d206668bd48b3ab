"""Build the shipped offline model from the training set: ``python -m training.build_model``.

The training set is ``training/examples.jsonl`` (generated from the phrasebooks by ``make_examples``) plus
every writer's file in ``training/written/`` (tickets written by hand in many styles and languages).

``make model`` runs this. The output, ``ticketpilot/gate/offline/offline-model.npz``, is committed; its
SHA-256 is the classifier version recorded with every decision.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ticketpilot.gate.offline.linear import MODEL_PATH, file_digest

from .fit import FittedModel, load_training_set


def build(out: Path = MODEL_PATH) -> str:
    """Fit on the whole training set and write ``out``; returns the new file's SHA-256."""
    FittedModel(load_training_set()).save(out)
    return file_digest(out)


def main() -> int:
    start = time.perf_counter()
    digest = build()
    print(
        f"wrote {MODEL_PATH} ({MODEL_PATH.stat().st_size // 1024} KiB, sha256 {digest[:10]}) "
        f"in {time.perf_counter() - start:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
