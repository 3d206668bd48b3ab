"""``main.py classify`` and ``main.py replay``: the gate from the command line.

- ``classify --subject S --body B --email E`` prints the decision JSON of ``POST /api/v1/classify_ticket``
  (no side effect). With ``[database] url`` unset it starts no database (see :func:`preview_without_database`).
- ``classify --eval FILE [--json]`` evaluates the configured classifier and the gate's decision on a
  labelled JSON Lines or CSV file (per sub-category, per language, per tag, every false automation with its
  flags and reasoning); with ``--unlabelled`` on a ticket history without labels (the automation rate and
  the tickets that would be automated, for a human to read). Every requester is taken as an ordinary enabled,
  non-privileged user with a phone on record, so the figures measure the classifier and the thresholds.
- ``replay --days N`` reads the last N days of tickets from HaloPSA and runs them through the gate in shadow
  mode (nothing is written to HaloPSA, nothing is executed), ending in a readiness report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from ticketpilot.config import Settings
from ticketpilot.gate.classification import ClassificationError, ClassifierResult, TicketText
from ticketpilot.gate.combined import with_second_opinion
from ticketpilot.gate.decision import Outcome, choose_playbook, decide
from ticketpilot.gate.eval_input import read_tickets
from ticketpilot.gate.eval_report import EvalReport, UnlabelledReport
from ticketpilot.gate.evaluation import JsonlError, evaluate, evaluate_unlabelled
from ticketpilot.gate.facts import ClassifierFailure, PolicySnapshot, RequesterFacts
from ticketpilot.gate.record import DecisionRecord
from ticketpilot.playbooks.loader import LoadedPlaybook, validate_path

LABELS = frozenset({"expected_automate", "sub_category"})
"""What a labelled evaluation needs on every ticket (without them: ``--unlabelled``)."""
ORDINARY_REQUESTER = RequesterFacts(
    email="requester@example.com",
    user_id="00000000-0000-0000-0000-000000000001",
    user_principal_name="requester@example.com",
    enabled=True,
    has_phone=True,
    privileged=False,
    manager_id="00000000-0000-0000-0000-000000000002",
)


async def run_classify(settings: Settings, args: argparse.Namespace) -> int:
    if args.eval_file:
        unlabelled = bool(getattr(args, "unlabelled", False))
        return await run_eval(settings, Path(args.eval_file), as_json=args.json, unlabelled=unlabelled)
    if not (args.subject or args.body):
        print("classify: give --subject/--body/--email, or --eval FILE", file=sys.stderr)
        return 2
    if not settings.database.url.get_secret_value():
        # One ticket needs no database: don't start the embedded server for it.
        decision = await preview_without_database(settings, args.subject, args.body, args.email)
        print(json.dumps(decision, indent=2, default=str))
        return 0
    from ticketpilot.service import open_gate

    services = await open_gate(settings, settings.database.url.get_secret_value())
    try:
        record = await services.gate.preview(args.subject, args.body, args.email)
    finally:
        await services.close()
    print(json.dumps(record.as_dict(), indent=2, default=str))
    return 0


NO_DATABASE_NOTE = (
    "no database configured: policy from the configuration only (kill switch, exclusions); "
    "the run-time state (cooldowns, rate limit, runtime kill switches) was not consulted"
)


async def preview_without_database(settings: Settings, subject: str, body: str, email: str) -> dict[str, Any]:
    """The decision JSON of ``classify`` for one ticket with no database: the configured classifier, the
    playbooks on disk, the requester from the configured directory (the sandbox twin or Graph), and the policy
    of the configuration. Nothing is stored or sent; the ``note`` says what was not consulted."""
    from ticketpilot.gate.enrichment import RequesterResolver
    from ticketpilot.gate.policy import RuntimePolicy
    from ticketpilot.service import build_classifier

    started = time.perf_counter()
    playbooks, problems = validate_path(Path(settings.playbooks.dir))
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    classifier = build_classifier(settings)
    directory, close_directory = _directory(settings)
    try:
        text = TicketText(subject=subject[:2_000], body=body[:100_000], requester_email=email)
        classified: ClassifierResult | ClassifierFailure
        try:
            classified = await classifier.classify(text)
        except ClassificationError as exc:
            classified = ClassifierFailure(
                exc.reason, exc.classifier or classifier.name, classifier.version, exc.detail
            )
        resolver = RequesterResolver(
            directory,
            ttl_s=settings.entra.cache_ttl_s,
            security_info_window_days=settings.policy.security_info_window_days,
        )
        requester = await resolver.resolve(email=email)
    finally:
        aclose = getattr(classifier, "aclose", None)
        if aclose is not None:
            await aclose()
        if close_directory is not None:
            await close_directory()
    policy = RuntimePolicy(settings.policy).configured()
    decision = decide(classified, requester, playbooks, policy, taxonomy=settings.llm.taxonomy)
    decision = with_second_opinion(decision, classified, partial(_playbook_of, playbooks))
    record = DecisionRecord.of(None, classified, requester, decision, (time.perf_counter() - started) * 1000)
    return {**record.as_dict(), "note": NO_DATABASE_NOTE}


def _directory(settings: Settings) -> tuple[Any, Callable[[], Awaitable[None]] | None]:
    """The requester directory of the configured mode (and how to close it): neither needs the database."""
    if settings.adapters.mode == "sandbox":
        from ticketpilot.adapters.sandbox import SandboxDirectory, SandboxLedger
        from ticketpilot.adapters.sandbox.credentials import IssuedCredentials
        from ticketpilot.adapters.sandbox.people import SandboxPeople

        return SandboxDirectory(SandboxPeople(), SandboxLedger(), IssuedCredentials()), None
    from ticketpilot.adapters.entra import GraphDirectory

    graph = GraphDirectory(
        settings.entra, http_timeout_s=settings.adapters.http_timeout_s, ca_bundle=settings.adapters.ca_bundle
    )
    return graph, graph.aclose


async def run_eval(settings: Settings, path: Path, *, as_json: bool, unlabelled: bool = False) -> int:
    """Evaluate classifier + gate decision on ``path`` (JSON Lines or CSV; ``unlabelled``: a ticket history
    without labels, reported as the automation rate and the tickets that would be automated); exit 2 on an
    unreadable file."""
    from ticketpilot.service import build_classifier

    try:
        rows = read_tickets(path)
    except (OSError, JsonlError, UnicodeDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    unlabelled_row = next((r for r in rows if not LABELS <= r.keys()), None)
    if not unlabelled and unlabelled_row is not None:  # before any (paid) classification
        print(
            f"error: {path}: ticket {unlabelled_row['id']} has no {' / '.join(sorted(LABELS))} label"
            " (use --unlabelled for a ticket history without labels)",
            file=sys.stderr,
        )
        return 2
    playbooks, problems = validate_path(Path(settings.playbooks.dir))
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    classifier = build_classifier(settings)
    try:
        results = await _classify_all(classifier, rows)
        classify = partial(_lookup, results)
        decide_result = partial(gate_would_automate, playbooks=playbooks, taxonomy=settings.llm.taxonomy)
        report: EvalReport | UnlabelledReport
        if unlabelled:
            report = evaluate_unlabelled(rows, classify, decide_result=decide_result)
        else:
            report = evaluate(rows, classify, decide_result=decide_result)
    finally:
        aclose = getattr(classifier, "aclose", None)
        if aclose is not None:
            await aclose()
    print(json.dumps(report.to_json(), indent=2) if as_json else report.render())
    return 0


def gate_would_automate(
    result: ClassifierResult, *, playbooks: list[LoadedPlaybook], taxonomy: tuple[str, ...]
) -> bool:
    """The gate's own decision for an ordinary requester with a clean policy state (with ``[llm] mode =
    "both"``, the two verdicts must lead to the same playbook, as in the service)."""
    decision = decide(result, ORDINARY_REQUESTER, playbooks, PolicySnapshot(), taxonomy=taxonomy)
    decision = with_second_opinion(decision, result, partial(_playbook_of, playbooks))
    # A shadow playbook "would automate": evaluation measures the decision, not the rollout mode.
    return decision.outcome in (Outcome.AUTOMATED, Outcome.SHADOW)


def _playbook_of(playbooks: list[LoadedPlaybook], sub_category: str) -> str | None:
    enabled = [p for p in playbooks if sub_category in p.playbook.triggers.sub_categories]
    candidate, _ = choose_playbook(sub_category, enabled)
    return candidate.playbook.id if candidate is not None else None


def _key(ticket: TicketText) -> tuple[str, str, str]:
    return (ticket.subject, ticket.body, ticket.requester_email)


def _lookup(
    results: dict[tuple[str, str, str], ClassifierResult | ClassificationError], ticket: TicketText
) -> ClassifierResult:
    found = results[_key(ticket)]
    if isinstance(found, ClassificationError):
        raise found
    return found


async def _classify_all(
    classifier: Any, rows: list[dict[str, Any]], concurrency: int = 8
) -> dict[tuple[str, str, str], ClassifierResult | ClassificationError]:
    """Classify every row once (an LLM is called concurrently, within a bound)."""
    limit = asyncio.Semaphore(concurrency)
    results: dict[tuple[str, str, str], ClassifierResult | ClassificationError] = {}

    async def one(row: dict[str, Any]) -> None:
        ticket = TicketText(
            subject=str(row.get("subject", ""))[:2_000],
            body=str(row.get("body", ""))[:100_000],
            requester_email=str(row.get("requester_email", "")),
        )
        async with limit:
            try:
                results[_key(ticket)] = await classifier.classify(ticket)
            except ClassificationError as exc:
                results[_key(ticket)] = exc

    await asyncio.gather(*(one(r) for r in rows))
    return results


async def run_replay(settings: Settings, args: argparse.Namespace) -> int:
    """Shadow-run the last ``--days`` of HaloPSA tickets through the gate and print a readiness report."""
    from ticketpilot.service import database_url, open_gate

    if args.days <= 0:
        print("replay: --days must be a positive number of days", file=sys.stderr)
        return 2
    async with database_url(settings) as dsn:
        services = await open_gate(settings, dsn)
        try:
            records = await replay(services, args.days, sys.stderr)
        finally:
            await services.close()
    print(readiness_report(records, args.days))
    return 0


async def replay(services: Any, days: int, out: TextIO) -> list[Any]:
    """Every ticket of the last ``days`` through the gate with ``source="replay"`` (stored as shadow)."""
    assert services.adapters is not None
    tickets = await services.adapters.tickets.list_tickets_since(days)
    records = []
    progress = Progress(len(tickets), out)
    for ticket in tickets:
        records.append(await services.gate.decide(ticket, source="replay"))
        progress.advance()
    progress.done()
    return records


class Progress:
    """A one-line text progress bar (redrawn in place on a terminal, a line per 10% elsewhere)."""

    def __init__(self, total: int, out: TextIO, width: int = 30) -> None:
        self.total, self.out, self.width, self.count = total, out, width, 0
        self._tty = hasattr(out, "isatty") and out.isatty()
        self._last_tenth = -1

    def advance(self) -> None:
        self.count += 1
        share = self.count / self.total if self.total else 1.0
        bar = "#" * int(share * self.width)
        line = f"[{bar:<{self.width}}] {self.count}/{self.total} tickets"
        if self._tty:
            self.out.write("\r" + line)
            self.out.flush()
        elif int(share * 10) != self._last_tenth:
            self._last_tenth = int(share * 10)
            self.out.write(line + "\n")

    def done(self) -> None:
        if self._tty:
            self.out.write("\n")
        self.out.flush()


def readiness_report(records: list[Any], days: int) -> str:
    """How many tickets would have been automated, by playbook, and what blocked the rest."""
    would = [r for r in records if r.outcome is Outcome.SHADOW and not r.blockers]
    by_playbook = Counter(r.playbook_id for r in would)
    candidates = Counter(r.playbook_id for r in records if r.playbook_id)
    blockers = Counter(
        b.name.value if hasattr(b.name, "value") else str(b.name) for r in records for b in r.blockers
    )
    total = len(records)
    lines = [
        f"Readiness report: {total} tickets from the last {days} days (shadow mode: nothing was changed)",
        f"Would have been automated: {len(would)} of {total}"
        + (f" ({100 * len(would) / total:.1f}%)" if total else ""),
    ]
    if candidates:
        lines.append("By playbook (automated / matched):")
        for playbook, matched in sorted(candidates.items()):
            lines.append(f"  {playbook}: {by_playbook.get(playbook, 0)} / {matched}")
    if blockers:
        lines.append("Blockers (tickets can have several):")
        for name, count in blockers.most_common():
            lines.append(f"  {name}: {count}")
    return "\n".join(lines)
