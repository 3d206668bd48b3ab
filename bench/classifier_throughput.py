"""Offline classifier benchmark (not part of the test suite): model load time and tickets/s on one core.

Start-up: a fresh interpreter imports the classifier and loads the shipped model (median of 3 runs).
Throughput: every ticket of the given JSON Lines files (default: the two shared dev sets when present, else
the project's own training examples) is classified ``--rounds`` times in one process pinned to one core.
Target (issue 9): at least 300 tickets/s per core, start-up model load at most 2 s.

Usage: ``.venv/bin/python bench/classifier_throughput.py [FILE ...] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ticketpilot.gate.classification import TicketText  # noqa: E402
from ticketpilot.gate.offline import OfflineClassifier  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
DEFAULT_FILES = [SHARED / "tickets-dev.jsonl", SHARED / "tickets-dev-2.jsonl"]
LOAD = (
    "import time; t = time.perf_counter(); from ticketpilot.gate.offline import OfflineClassifier; "
    "OfflineClassifier().warm_up(); print(time.perf_counter() - t)"
)


def tickets(files: list[Path]) -> list[TicketText]:
    found = [f for f in files if f.exists()] or [ROOT / "training" / "examples.jsonl"]
    out = []
    for path in found:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.append(
                    TicketText(
                        subject=str(row.get("subject", ""))[:2_000],
                        body=str(row.get("body", ""))[:100_000],
                        requester_email=str(row.get("requester_email", "")),
                    )
                )
    print(f"tickets: {len(out)} from {', '.join(str(p) for p in found)}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    loads = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", LOAD], capture_output=True, text=True, check=True, cwd=ROOT
        )
        loads.append(float(out.stdout.strip()))
    print(f"start-up (import + model load), median of 3: {statistics.median(loads):.2f} s (target <= 2 s)")

    classifier = OfflineClassifier()
    classifier.warm_up()
    batch = tickets(args.files)
    per_ticket = []
    start = time.perf_counter()
    for _ in range(args.rounds):
        for ticket in batch:
            t0 = time.perf_counter()
            classifier.classify_sync(ticket)
            per_ticket.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - start
    per_ticket.sort()
    print(
        f"throughput on one core: {len(per_ticket) / elapsed:.0f} tickets/s (target >= 300); "
        f"p50 {per_ticket[len(per_ticket) // 2] * 1e3:.2f} ms, p99 {per_ticket[int(len(per_ticket) * 0.99)] * 1e3:.2f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
