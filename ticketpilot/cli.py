"""``python main.py <command>``: serve | migrate | playbooks validate [PATH] | classify ... | replay | doctor."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

import asyncpg

from ticketpilot.config import ConfigError, Settings, load_settings
from ticketpilot.logging import configure_logging

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python main.py", description="TicketPilot: ticket automation for MSPs"
    )
    parser.add_argument("--config", help="configuration file (default: config.toml when present)")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("serve", help="run the service (HTTP, engine, workers)")
    sub.add_parser("migrate", help="apply pending database migrations and exit")

    playbooks = sub.add_parser("playbooks", help="playbook tools")
    pb_sub = playbooks.add_subparsers(dest="playbooks_command", required=True)
    validate = pb_sub.add_parser("validate", help="validate playbook files; exit 1 on any problem")
    validate.add_argument("path", nargs="?", help="a file or a folder (default: [playbooks] dir)")

    classify = sub.add_parser("classify", help="classify one ticket, or evaluate on a JSON Lines file")
    classify.add_argument(
        "--eval", dest="eval_file", help="JSON Lines (tickets-dev.jsonl format) or CSV file of tickets"
    )
    classify.add_argument("--json", action="store_true", help="with --eval: print one JSON object")
    classify.add_argument(
        "--unlabelled",
        action="store_true",
        help="with --eval: a ticket history without labels (JSON Lines or CSV): the automation rate and the "
        "tickets that would be automated",
    )
    classify.add_argument("--subject", default="")
    classify.add_argument("--body", default="")
    classify.add_argument("--email", default="")

    replay = sub.add_parser("replay", help="run recent HaloPSA tickets through the gate in shadow mode")
    replay.add_argument("--days", type=int, default=7)

    doctor = sub.add_parser(
        "doctor", help="read-only preflight of every configured integration; exit 1 on any failed check"
    )
    doctor.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        _print_config_error(exc)
        return EXIT_CONFIG
    configure_logging(settings.logging.level, settings.logging.format)
    try:
        if args.command == "serve":
            from ticketpilot.service import serve

            asyncio.run(serve(settings))
            return 0
        if args.command == "migrate":
            return asyncio.run(_migrate(settings))
        if args.command == "playbooks":
            from ticketpilot.playbooks.validate import cli_validate

            return cli_validate(Path(args.path or settings.playbooks.dir))
        if args.command == "classify":
            from ticketpilot.gate.cli import run_classify

            return asyncio.run(run_classify(settings, args))
        if args.command == "replay":
            from ticketpilot.gate.cli import run_replay

            return asyncio.run(run_replay(settings, args))
        if args.command == "doctor":
            return asyncio.run(_doctor(settings, as_json=args.json))
    except ConfigError as exc:
        _print_config_error(exc)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        # The database (or another server) cannot be reached: say so plainly, no traceback.
        print(f"cannot start: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 1


def _print_config_error(exc: ConfigError) -> None:
    """One line per key on stderr, each one saying what it is."""
    for key, problem in exc.problems:
        print(f"configuration error: {key}: {problem}", file=sys.stderr)


async def _migrate(settings: Settings) -> int:
    from ticketpilot.service import database_url, run_migrations

    async with database_url(settings) as dsn:
        applied = await run_migrations(dsn)
    print(f"migrations applied: {applied}" if applied else "database is up to date")
    return 0


async def _doctor(settings: Settings, *, as_json: bool) -> int:
    """``doctor``: one ✓/✗ line per check (or ``--json``); 0 when every check passed, else 1."""
    import json

    from ticketpilot.doctor import dsn_connector, run_doctor
    from ticketpilot.service import database_url

    async with database_url(settings) as dsn:
        report = await run_doctor(settings, dsn_connector(dsn))
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        print("\n".join(report.lines()))
    return 0 if report.ok else 1
