"""Choose each playbook's ``confidence_threshold`` on validation data: ``python -m training.calibrate``.

For every playbook in ``playbooks/`` and every candidate threshold, the automation precision and recall are
measured on each validation set:

* the project's own training set, predicted out of fold, folds split by group (a phrasebook of the
  generator, or one writer), never by row: each group is predicted by a model that saw none of it;
* every labelled JSON Lines file given on the command line (default: the shared dev sets when present;
  they are validation data, never training data).

A ticket counts as automated by a playbook when the classification's sub-category triggers it, the
confidence reaches the threshold, the request concerns the requester's own account and no risk flag is
raised. Among the thresholds that hold precision >= 0.99 on *every* set, the recommended one is the highest
whose recall on every set stays within one point of the best (the widest margin above the abstention cap at
no cost in recall); the playbook's current value is shown beside it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sklearn.model_selection import GroupKFold

from ticketpilot.gate.classification import Classification, TicketText
from ticketpilot.gate.evaluation import read_jsonl
from ticketpilot.gate.offline import OfflineClassifier
from ticketpilot.gate.offline.model import ACCOUNT_ACTIONS, decide
from ticketpilot.gate.offline.text import view
from ticketpilot.playbooks.loader import validate_path

from .fit import FittedModel, load_training_set

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
TARGET_PRECISION = 0.99
CANDIDATES = [round(0.5 + 0.01 * i, 2) for i in range(50)]


@dataclass(frozen=True)
class Scored:
    classification: Classification
    expected: bool


def out_of_fold() -> list[Scored]:
    examples = load_training_set()
    groups = [e.group for e in examples]
    folds = GroupKFold(n_splits=min(5, len(set(groups))))
    scored: list[Scored] = []
    for train, test in folds.split(examples, groups=groups):
        model = FittedModel([examples[i] for i in train])
        for i in test:
            e = examples[i]
            prepared = view(e.subject, e.body)
            c = decide(prepared, model.predict_text(prepared.model_text))
            expected = e.sub_category in ACCOUNT_ACTIONS and e.own_account and not e.risk_flags
            scored.append(Scored(c, expected))
    return scored


def labelled(path: Path) -> list[Scored]:
    classifier = OfflineClassifier()
    out = []
    for row in read_jsonl(path):
        ticket = TicketText(
            subject=str(row.get("subject", ""))[:2_000],
            body=str(row.get("body", ""))[:100_000],
            requester_email=str(row.get("requester_email", "")),
        )
        out.append(
            Scored(classifier.classify_sync(ticket).classification, bool(row.get("expected_automate")))
        )
    return out


def measure(scored: Iterable[Scored], triggers: frozenset[str], threshold: float) -> tuple[float, float, int]:
    tp = fp = positives = 0
    for s in scored:
        c = s.classification
        automated = (
            c.sub_category in triggers and c.confidence >= threshold and c.own_account and not c.risk_flags
        )
        relevant = s.expected and c.sub_category in triggers
        positives += relevant
        tp += automated and s.expected
        fp += automated and not s.expected
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / positives if positives else 0.0
    return precision, recall, tp + fp


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args()
    files = args.files or [
        p for p in (SHARED / "tickets-dev.jsonl", SHARED / "tickets-dev-2.jsonl") if p.exists()
    ]
    sets = {"own set (out of group)": out_of_fold()} | {p.name: labelled(p) for p in files}
    loaded, _problems = validate_path(ROOT / "playbooks")
    playbooks = [lp.playbook for lp in loaded if lp.playbook.enabled]
    for playbook in playbooks:
        triggers = frozenset(playbook.triggers.sub_categories)
        print(
            f"\n{playbook.id} (triggers {', '.join(sorted(triggers))}; now {playbook.confidence_threshold})"
        )
        table = {t: {name: measure(scored, triggers, t) for name, scored in sets.items()} for t in CANDIDATES}
        holding = [t for t in CANDIDATES if all(p >= TARGET_PRECISION for p, _r, _n in table[t].values())]
        best_recall = {name: max(table[t][name][1] for t in holding) for name in sets} if holding else {}
        within = [t for t in holding if all(table[t][n][1] >= best_recall[n] - 0.01 for n in sets)]
        for threshold in (0.5, 0.51, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95):
            cells = "  ".join(
                f"{name}: P={p:.3f} R={r:.3f} n={n}" for name, (p, r, n) in table[threshold].items()
            )
            print(f"  {threshold:.2f}  {cells}")
        print(
            f"  precision >= {TARGET_PRECISION} on every set from {holding[0] if holding else None}; "
            f"recommended (recall within 0.01 of the best): {within[-1] if within else None}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
