"""``python main.py doctor`` / ``GET /api/v1/doctor``: the read-only preflight, against the vendor fakes with
each failure injected (bad credentials, a missing Graph permission, an unknown custom field, a number not on
the Twilio account, an unknown model, a broken playbook, an unapplied migration)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from e2e_live_support import ACCOUNT_SID, FROM_NUMBER, GRAPH_TENANT, OPENAI_KEY, TWILIO_TOKEN, VendorFakes

from ticketpilot.config import Settings
from ticketpilot.doctor import CheckFailed, Report, dsn_connector, run_doctor
from ticketpilot.doctor.vendors import teams_url_shape
from ticketpilot.http.app import build_app
from ticketpilot.service import open_services

ROOT = Path(__file__).resolve().parents[1]
ADMIN = "doctor-admin-token-0123456789"
SECRETS = ("halo-secret", "graph-secret", "mfa-secret", TWILIO_TOKEN, OPENAI_KEY, ADMIN, "wp-secret")


@pytest.fixture
async def fakes(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[VendorFakes]:
    vendors = VendorFakes.create()
    await vendors.start()
    vendors.graph.add_user(
        "alice@contoso.example", mail="alice@contoso.example", phones=[("+44 7700 900123", "mobile")]
    )
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(vendors.graph.ca_file))
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    yield vendors
    await vendors.stop()
    for fake in vendors.all():
        assert fake.spec_errors == [], (fake.name, fake.spec_errors)


@pytest.fixture
def playbooks_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(ROOT / "playbooks", tmp_path / "playbooks"))


def live_config(
    fakes: VendorFakes, db_url: str, redis_url: str, playbooks_dir: Path
) -> dict[str, dict[str, Any]]:
    return {
        "adapters": {"mode": "live", "http_timeout_s": 5},
        "http": {"admin_token": ADMIN},
        "database": {"url": db_url},
        "redis": {"url": redis_url},
        "llm": {
            "base_url": fakes.openai.base_url,
            "api_key": OPENAI_KEY,
            "model": "gpt-4o-mini",
            "mode": "llm",
        },
        "halopsa": {
            "base_url": fakes.halo.base_url,
            "client_id": "halo-client",
            "client_secret": "halo-secret",
            "tenant": "acme",
            "webhook_password": "wp-secret",
            "customfield_automation_status": 201,
            "customfield_automation_status_name": "CFautomationStatus",
            "customfield_playbook_id_name": "CFplaybookId",
            "customfield_automation_confidence": 203,
            "status_escalated_id": 21,
        },
        "entra": {
            "tenant_id": GRAPH_TENANT,
            "client_id": "graph-app",
            "client_secret": "graph-secret",
            "authority_url": fakes.graph.authority_url,
            "graph_url": fakes.graph.graph_url,
            "service_mailbox": "helpdesk@contoso.example",
        },
        "mfa": {
            "enabled": True,
            "connector_url": fakes.mfa.connector_url,
            "token_url": fakes.mfa.token_url,
            "client_secret": "mfa-secret",
        },
        "teams": {"workflow_url": fakes.teams.workflow_url},
        "twilio": {
            "account_sid": ACCOUNT_SID,
            "auth_token": TWILIO_TOKEN,
            "from_number": FROM_NUMBER,
            "base_url": fakes.twilio.base_url,
        },
        "playbooks": {"dir": str(playbooks_dir), "watch": False},
    }


def settings_of(config: dict[str, dict[str, Any]], **changes: dict[str, Any]) -> Settings:
    merged = {
        section: {**config.get(section, {}), **changes.get(section, {})} for section in {*config, *changes}
    }
    return Settings(**merged)  # type: ignore[arg-type]


async def doctor(settings: Settings) -> Report:
    url = settings.database.url.get_secret_value()
    return await run_doctor(settings, dsn_connector(url), timeout_s=10)


def by_name(report: Report) -> dict[str, Any]:
    return {check.name: check for check in report.checks}


def assert_no_secret(report: Report, fakes: VendorFakes) -> None:
    text = json.dumps(report.as_dict()) + "\n".join(report.lines())
    for secret in (*SECRETS, fakes.teams.sig):
        assert secret not in text


@pytest.fixture
def config(fakes: VendorFakes, db_url: str, redis_url: str, playbooks_dir: Path) -> dict[str, dict[str, Any]]:
    return live_config(fakes, db_url, redis_url, playbooks_dir)


LIVE_CHECKS = {
    "postgresql", "migrations", "redis", "playbooks",
    "halopsa token", "halopsa ticket read", "halopsa custom fields", "halopsa statuses",
    "graph token", "graph User.Read.All", "graph GroupMember.Read.All", "graph UserAuthenticationMethod.Read.All",
    "graph RoleManagement.Read.Directory", "graph IdentityRiskyUser.Read.All", "graph AuditLog.Read.All",
    "graph UserAuthenticationMethod.ReadWrite.All", "graph Mail.Send",
    "mfa connector token", "twilio account", "twilio from_number", "teams workflow url", "teams reachability",
    "llm model",
}  # fmt: skip


async def test_a_healthy_live_configuration_passes_every_check_and_changes_nothing(
    fakes: VendorFakes, config: dict[str, dict[str, Any]]
) -> None:
    report = await doctor(settings_of(config))
    assert [c.line() for c in report.failed] == []
    assert report.ok and set(by_name(report)) == LIVE_CHECKS
    checks = by_name(report)
    assert "automation_status=CFautomationStatus (201)" in checks["halopsa custom fields"].detail
    assert "21 Escalated to L1" in checks["halopsa statuses"].detail
    assert "belongs to the account" in checks["twilio from_number"].detail
    # Read-only: no ticket written, no card, no push, no SMS, no mail.
    assert fakes.halo.updates == [] and fakes.halo.notes == []
    assert fakes.teams.cards == [] and fakes.mfa.pushes == [] and fakes.twilio.messages == []
    assert fakes.graph.sent_mail == [] and fakes.graph.issued_taps == []
    assert not [r for r in fakes.teams.requests if r.method == "POST"]
    assert_no_secret(report, fakes)


async def test_bad_halopsa_and_graph_credentials_fail_their_token_checks(
    fakes: VendorFakes, config: dict[str, dict[str, Any]]
) -> None:
    report = await doctor(
        settings_of(config, halopsa={"client_secret": "wrong-halo"}, entra={"client_secret": "wrong-graph"})
    )
    checks = by_name(report)
    halo, graph = checks["halopsa token"], checks["graph token"]
    assert not halo.ok and "HTTP 401" in halo.detail and "halopsa.client_id" in halo.fix
    assert not graph.ok and "invalid_client" in graph.detail and "entra.tenant_id" in graph.fix
    # The checks that need those tokens are not attempted; the others still run.
    assert "halopsa ticket read" not in checks and "graph User.Read.All" not in checks
    assert checks["twilio account"].ok and checks["llm model"].ok
    assert halo.line().startswith("✗ halopsa token — ") and " — check " in halo.line()
    mfa = by_name(await doctor(settings_of(config, mfa={"client_secret": "wrong-mfa"})))[
        "mfa connector token"
    ]
    assert not mfa.ok and "HTTP 401" in mfa.detail and "mfa.client_secret" in mfa.fix
    assert "wrong-halo" not in json.dumps(report.as_dict())


async def test_a_graph_scope_the_identity_platform_refuses_is_named(
    fakes: VendorFakes, config: dict[str, dict[str, Any]]
) -> None:
    fakes.graph.fail_next(
        400, body={"error": "invalid_scope", "error_codes": [70011]}, method="POST", path_contains="/token"
    )
    check = by_name(
        await doctor(settings_of(config, entra={"graph_scope": "https://graph.contoso.example/.default"}))
    )["graph token"]
    assert not check.ok and "invalid_scope" in check.detail and "entra.graph_scope" in check.fix


async def test_a_missing_graph_permission_is_named_with_the_grant_to_make(
    fakes: VendorFakes, config: dict[str, dict[str, Any]]
) -> None:
    fakes.graph.denied_permissions = {"IdentityRiskyUser.Read.All", "UserAuthenticationMethod.ReadWrite.All"}
    report = await doctor(settings_of(config))
    checks = by_name(report)
    risky = checks["graph IdentityRiskyUser.Read.All"]
    assert not risky.ok and "HTTP 403" in risky.detail
    assert (
        risky.fix
        == "grant IdentityRiskyUser.Read.All (application) to the app registration and admin-consent"
    )
    write = checks["graph UserAuthenticationMethod.ReadWrite.All"]
    assert not write.ok and "not in the token's roles" in write.detail
    assert "grant UserAuthenticationMethod.ReadWrite.All (application)" in write.fix
    assert checks["graph AuditLog.Read.All"].ok and checks["graph User.Read.All"].ok
    assert {c.name for c in report.failed} == {risky.name, write.name}


async def test_without_user_read_the_per_user_permissions_fall_back_to_the_token_roles(
    fakes: VendorFakes, config: dict[str, dict[str, Any]]
) -> None:
    fakes.graph.denied_permissions = {"User.Read.All", "GroupMember.Read.All"}
    checks = by_name(await doctor(settings_of(config)))
    assert not checks["graph User.Read.All"].ok and "grant User.Read.All" in checks["graph User.Read.All"].fix
    assert not checks["graph GroupMember.Read.All"].ok
    assert "not in the token's roles" in checks["graph GroupMember.Read.All"].detail
    methods = checks["graph UserAuthenticationMethod.Read.All"]
    assert methods.ok and "not read-tested" in methods.detail


async def test_identity_signals_a_tenant_cannot_give_fail_unless_the_policy_does_without_them(
    fakes: VendorFakes, config: dict[str, dict[str, Any]]
) -> None:
    fakes.graph.audit_log_licensed = False
    check = by_name(await doctor(settings_of(config)))["graph AuditLog.Read.All"]
    assert not check.ok and "no Microsoft Entra ID P1 licence" in check.detail
    assert "policy.require_identity_signals = false" in check.fix
    relaxed = settings_of(config, policy={"require_identity_signals": False})
    check = by_name(await doctor(relaxed))["graph AuditLog.Read.All"]
    assert check.ok and "not needed" in check.detail


async def test_an_unreachable_database_fails_its_checks_and_the_rest_still_run(
    fakes: VendorFakes, config: dict[str, dict[str, Any]]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    report = await doctor(
        settings_of(config, database={"url": f"postgresql://tp:pw-secret@127.0.0.1:{port}/tp"})
    )
    checks = by_name(report)
    assert not checks["postgresql"].ok and "cannot connect" in checks["postgresql"].detail
    assert "database.url" in checks["postgresql"].fix and "pw-secret" not in json.dumps(report.as_dict())
    assert not checks["migrations"].ok and checks["halopsa token"].ok


async def test_an_unknown_custom_field_name_and_status_are_reported(
    fakes: VendorFakes, config: dict[str, dict[str, Any]]
) -> None:
    report = await doctor(
        settings_of(config, halopsa={"customfield_playbook_id_name": "CFplaybok", "status_escalated_id": 77})
    )
    checks = by_name(report)
    fields = checks["halopsa custom fields"]
    assert (
        not fields.ok and "'CFplaybok'" in fields.detail and "customfield_playbook_id_name" in fields.detail
    )
    assert "CFplaybookId" in fields.fix
    statuses = checks["halopsa statuses"]
    assert not statuses.ok and "status 77 (halopsa.status_escalated_id)" in statuses.detail


async def test_a_from_number_not_on_the_twilio_account_fails(
    fakes: VendorFakes, config: dict[str, dict[str, Any]]
) -> None:
    fakes.twilio.phone_numbers = ["+15005550001"]
    check = by_name(await doctor(settings_of(config)))["twilio from_number"]
    assert not check.ok and f"{FROM_NUMBER} is not a phone number of account {ACCOUNT_SID}" in check.detail
    assert "twilio.from_number" in check.fix


async def test_an_unknown_model_fails_naming_the_model_and_the_endpoint(
    fakes: VendorFakes, config: dict[str, dict[str, Any]]
) -> None:
    check = by_name(await doctor(settings_of(config, llm={"model": "gpt-9-turbo"})))["llm model"]
    assert not check.ok
    assert check.detail == f"model 'gpt-9-turbo' not found at {fakes.openai.base_url}"
    assert "llm.model" in check.fix


async def test_a_broken_playbook_is_reported_with_file_and_line(
    fakes: VendorFakes, config: dict[str, dict[str, Any]], playbooks_dir: Path
) -> None:
    (playbooks_dir / "broken.yml").write_text("id: broken\nversion: 1.0.0\nsteps: [\n", encoding="utf-8")
    check = by_name(await doctor(settings_of(config)))["playbooks"]
    assert not check.ok and f"{playbooks_dir / 'broken.yml'}:" in check.detail
    assert "python main.py playbooks validate" in check.fix


async def test_an_unapplied_migration_is_named(
    fakes: VendorFakes, config: dict[str, dict[str, Any]], db_url: str
) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        latest = await conn.fetchrow(
            "SELECT version, name FROM schema_migrations ORDER BY version DESC LIMIT 1"
        )
        await conn.execute("DELETE FROM schema_migrations WHERE version = $1", latest["version"])
    finally:
        await conn.close()
    check = by_name(await doctor(settings_of(config)))["migrations"]
    assert not check.ok and f"{latest['version']:04d}_{latest['name']}" in check.detail
    assert "python main.py migrate" in check.fix


async def test_sandbox_mode_checks_only_the_local_parts(
    db_url: str, redis_url: str, playbooks_dir: Path
) -> None:
    settings = Settings(  # type: ignore[arg-type]
        database={"url": db_url},
        redis={"url": redis_url},
        playbooks={"dir": str(playbooks_dir), "watch": False},
    )
    report = await doctor(settings)
    assert report.ok and report.mode == "sandbox"
    lines = report.lines()
    for vendor in ("halopsa", "graph", "mfa connector", "twilio", "teams"):
        assert f"✓ {vendor} — sandbox (not checked)" in lines
    assert any(line.startswith("✓ postgresql — connected") for line in lines)
    assert any(line.startswith("✓ redis — PING answered") for line in lines)


# --- the command line and the API ---------------------------------------------------------------------------


def _toml(config: dict[str, dict[str, Any]]) -> str:
    out = []
    for section, values in config.items():
        out.append(f"[{section}]")
        out += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    return "\n".join(out) + "\n"


async def _main(config_file: Path, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETPILOT_")}
    env["PYTHONIOENCODING"] = "utf-8"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "main.py", "--config", str(config_file), "doctor", *args,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_cli_prints_one_line_per_check_and_exits_by_the_result(
    fakes: VendorFakes, config: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    healthy = tmp_path / "healthy.toml"
    healthy.write_text(_toml(config), encoding="utf-8")
    code, out, err = await _main(healthy)
    lines = out.splitlines()
    assert code == 0, out + err
    assert len(lines) == len(LIVE_CHECKS) and all(line.startswith("✓ ") for line in lines)

    fakes.graph.denied_permissions = {"AuditLog.Read.All"}
    broken = tmp_path / "broken.toml"
    config["llm"]["model"] = "no-such-model"
    config["halopsa"]["client_secret"] = "not-the-secret"
    broken.write_text(_toml(config), encoding="utf-8")
    code, out, err = await _main(broken)
    assert code == 1, out + err
    failed = [line for line in out.splitlines() if line.startswith("✗ ")]
    assert len(failed) == 3
    assert any(line.startswith("✗ halopsa token — token request refused: HTTP 401") for line in failed)
    assert any("grant AuditLog.Read.All (application)" in line for line in failed)
    assert f"✗ llm model — model 'no-such-model' not found at {fakes.openai.base_url}" in out
    for secret in (*SECRETS, "not-the-secret", fakes.teams.sig):
        assert secret not in out + err

    code, out, _ = await _main(broken, "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False and report["failed"] == 3 and report["mode"] == "live"
    assert {c["name"] for c in report["checks"] if not c["ok"]} == {
        "halopsa token", "graph AuditLog.Read.All", "llm model"
    }  # fmt: skip


async def test_api_doctor_needs_the_admin_token_and_answers_json(
    db_url: str, redis_url: str, playbooks_dir: Path
) -> None:
    settings = Settings(  # type: ignore[arg-type]
        http={"admin_token": ADMIN},
        database={"url": db_url},
        redis={"url": redis_url},
        playbooks={"dir": str(playbooks_dir), "watch": False},
    )
    (playbooks_dir / "broken.yml").write_text("id: broken\nsteps: {\n", encoding="utf-8")
    services = await open_services(settings, db_url, watch=False)
    try:
        async with TestClient(TestServer(build_app(services))) as client:
            resp = await client.get("/api/v1/doctor")
            assert resp.status == 401
            resp = await client.get("/api/v1/doctor", headers={"Authorization": "Bearer wrong"})
            assert resp.status == 401
            resp = await client.get("/api/v1/doctor", headers={"Authorization": f"Bearer {ADMIN}"})
            assert resp.status == 200
            body = await resp.json()
    finally:
        await services.close()
    assert body["ok"] is False and body["mode"] == "sandbox" and body["failed"] == 1
    checks = {c["name"]: c for c in body["checks"]}
    assert checks["postgresql"]["ok"] and checks["migrations"]["ok"] and checks["redis"]["ok"]
    assert not checks["playbooks"]["ok"] and "broken.yml:" in checks["playbooks"]["detail"]
    assert checks["halopsa"] == {"name": "halopsa", "ok": True, "detail": "sandbox (not checked)", "fix": ""}
    assert ADMIN not in json.dumps(body)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=S3CRET", None),
        ("https://default.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/abc/"
         "triggers/manual/paths/invoke?api-version=1&sig=S3CRET", None),
        ("http://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=S3CRET", "https"),
        ("https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sp=x", "no sig="),
        ("https://contoso.webhook.office.com/webhookb2/abc/IncomingWebhook/def?sig=S3CRET", "not a workflow"),
    ],
)  # fmt: skip
def test_teams_workflow_url_shape(url: str, problem: str | None) -> None:
    if problem is None:
        detail = teams_url_shape(url)
        assert "not a Logic Apps" not in detail and "S3CRET" not in detail
        return
    with pytest.raises(CheckFailed) as failed:
        teams_url_shape(url)
    assert problem in failed.value.detail and "S3CRET" not in failed.value.detail + failed.value.fix
