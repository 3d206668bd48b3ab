"""The command line and the embedded PostgreSQL: started only when a command needs a database, and quiet."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _env_without_database() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETPILOT_")}
    env["TICKETPILOT_PLAYBOOKS__DIR"] = str(ROOT / "playbooks")
    return env


def test_classify_one_ticket_starts_no_database(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "classify", "--subject", "Locked out", "--body",
         "I'm locked out of my Office 365 account, please reset my password. Thanks, Sam",
         "--email", "sam.jones@contoso.example"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=_env_without_database(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "var").exists(), "no embedded server data directory"
    assert "postgres" not in proc.stderr.lower()
    decision = json.loads(proc.stdout)
    assert decision["classification"]["sub_category"] in {"ACCOUNT_LOCKOUT", "PASSWORD_RESET"}
    assert decision["playbook_id"] == "password_reset"
    assert decision["outcome"] in {"automated", "manual"}
    assert decision["requester"]["email"] == "sam.jones@contoso.example"
    assert decision["decision_id"] is None
    assert "no database" in decision["note"]


def test_classify_without_database_applies_the_configured_policy(tmp_path: Path) -> None:
    env = {**_env_without_database(), "TICKETPILOT_POLICY__KILL_SWITCH": "true"}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "classify", "--subject", "Locked out", "--body",
         "I'm locked out of my Office 365 account, please reset my password. Thanks, Sam",
         "--email", "admin.boss@contoso.example"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    decision = json.loads(proc.stdout)
    blockers = {b["name"] for b in decision["blockers"]}
    assert decision["outcome"] == "manual"
    assert {"kill_switch_global", "privileged_account"} <= blockers, blockers


@pytest.fixture
def world_readable_dir() -> Iterator[Path]:
    """As root, the embedded server runs as its own OS user: its data folder's parents must be reachable
    (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="tp-cli-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_embedded_server_logs_only_our_own_lines(world_readable_dir: Path) -> None:
    """A command that needs the database starts the embedded server without its INFO chatter."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "migrate"],
        cwd=world_readable_dir, capture_output=True, text=True, timeout=120, env=_env_without_database(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (world_readable_dir / "var" / "pg").is_dir()
    assert "embedded_postgres_started" in proc.stderr and "embedded_postgres_stopped" in proc.stderr
    for noise in ("pgserver", "pg_ctl", "Running commandline", "XDG_RUNTIME_DIR"):
        assert noise not in proc.stderr, proc.stderr


async def test_live_classify_without_database_resolves_the_requester_in_graph(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fakes.graph import GraphFake

    from ticketpilot.config import Settings
    from ticketpilot.gate.cli import preview_without_database

    graph = GraphFake(tenant_id="contoso-tenant", client_secret="gs")
    await graph.start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(graph.ca_file))
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    try:
        alice = graph.add_user(
            "alice@contoso.example", mail="alice@contoso.example", phones=[("+44 7700 900123", "mobile")]
        )
        settings = Settings(
            adapters={"mode": "live"},
            http={"admin_token": "admin"},
            halopsa={"base_url": "https://halo.invalid", "client_id": "c", "client_secret": "s",
                     "webhook_password": "w"},
            entra={"tenant_id": "contoso-tenant", "client_id": "graph-app", "client_secret": "gs",
                   "authority_url": graph.authority_url, "graph_url": graph.graph_url},
            twilio={"account_sid": "AC" + "0" * 32, "auth_token": "t", "from_number": "+15005550006"},
            playbooks={"dir": str(ROOT / "playbooks")},
        )  # type: ignore[arg-type]  # fmt: skip
        decision = await preview_without_database(
            settings, "Locked out", "I'm locked out of my account, please reset my password.", alice.mail
        )
    finally:
        await graph.stop()
    assert decision["requester"]["user_id"] == alice.id
    assert decision["requester"]["has_phone"] is True
    assert decision["decision_id"] is None and "no database" in decision["note"]
