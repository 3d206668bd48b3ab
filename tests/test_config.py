"""Configuration: TOML + env overrides, validated once, one clear message and exit code 2 on errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ticketpilot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("TICKETPILOT_") and not key.startswith("TICKETPILOT_TEST_"):
            monkeypatch.delenv(key)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_loads_as_sandbox() -> None:
    settings = load_settings(ROOT / "config.toml")
    assert settings.adapters.mode == "sandbox"
    assert settings.http.port == 8080
    assert settings.database.url.get_secret_value() == ""


def test_env_overrides_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[http]\nport = 9000\n[database]\nurl = "postgresql://a@b/c"\n')
    monkeypatch.setenv("TICKETPILOT_HTTP__PORT", "9100")
    monkeypatch.setenv("TICKETPILOT_DATABASE__URL", "postgresql://x@y/z")
    settings = load_settings(path)
    assert settings.http.port == 9100
    assert settings.database.url.get_secret_value() == "postgresql://x@y/z"


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, ""))
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="frozen"):
        settings.http.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("toml", "key", "problem"),
    [
        ("[http]\nport = 'abc'\n", "http.port", "integer"),
        ("[http]\nport = 70000\n", "http.port", "65535"),
        ("[engine]\nlease_s = -1\n", "engine.lease_s", "positive"),
        ("[engine]\nlease_s = nan\n", "engine.lease_s", "finite"),
        ("[engine]\nlease_s = inf\n", "engine.lease_s", "finite"),
        ("[adapters]\nmode = 'prod'\n", "adapters.mode", "sandbox"),
        ("[http]\nprot = 80\n", "http.prot", "unknown key"),
        ("[nonsense]\na = 1\n", "nonsense", "unknown key"),
        ("[http]\npublic_url = 'example.com'\n", "http.public_url", "http"),
        ("[database]\npool_min = 5\npool_max = 2\n", "database", "pool_max"),
        ("[entra]\ngraph_scope = 'https://graph.microsoft.com'\n", "entra.graph_scope", "/.default"),
        ("[adapters]\nca_bundle = '/nonexistent/ca.pem'\n", "adapters.ca_bundle", "file not found"),
        ("[adapters]\nca_bundle = '/etc/hostname'\n", "adapters.ca_bundle", "not a PEM file"),
    ],
)
def test_invalid_values_name_the_key(tmp_path: Path, toml: str, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, toml))
    assert info.value.key == key
    assert problem in info.value.problem


LIVE_CREDENTIALS = [
    "halopsa.base_url",
    "halopsa.client_id",
    "halopsa.client_secret",
    "entra.tenant_id",
    "entra.client_id",
    "entra.client_secret",
    "twilio.account_sid",
    "twilio.auth_token",
    "twilio.from_number",
    "halopsa.webhook_password",
    "http.admin_token",
]


def test_live_mode_needs_credentials(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, "[adapters]\nmode = 'live'\n"))
    assert info.value.key == "halopsa.base_url"
    assert "live" in info.value.problem


def test_live_mode_names_every_missing_credential_at_once(tmp_path: Path) -> None:
    toml = "[adapters]\nmode = 'live'\n[halopsa]\nclient_id = 'halo-app'\n[twilio]\nfrom_number = '+15005550006'\n"
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, toml))
    expected = [k for k in LIVE_CREDENTIALS if k not in ("halopsa.client_id", "twilio.from_number")]
    assert list(info.value.keys) == expected
    lines = str(info.value).splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == expected
    assert all("live" in line for line in lines)


def test_invalid_values_and_missing_credentials_are_named_together(tmp_path: Path) -> None:
    toml = (
        "[adapters]\nmode = 'live'\n[http]\nport = 'abc'\n[twilio]\naccount_sid = 'AC1'\nfrom_nmber = '+1'\n"
    )
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, toml))
    keys = list(info.value.keys)
    assert keys[:2] == ["http.port", "twilio.from_nmber"]
    assert keys[2:] == [k for k in LIVE_CREDENTIALS if k != "twilio.account_sid"]
    assert len(str(info.value).splitlines()) == len(keys)


def test_every_invalid_value_is_named_at_once(tmp_path: Path) -> None:
    toml = "[http]\nport = 'abc'\nprot = 1\n[engine]\nlease_s = -1\n[adapters]\nmode = 'prod'\n"
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, toml))
    problems = dict(info.value.problems)
    assert set(problems) == {"http.port", "http.prot", "engine.lease_s", "adapters.mode"}
    assert "integer" in problems["http.port"] and problems["http.prot"] == "unknown key"
    assert len(str(info.value).splitlines()) == 4


def test_broken_toml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, "[http\nport=1"))
    assert "not valid TOML" in info.value.problem


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "nope.toml")
    assert "file not found" in info.value.problem


def test_secrets_never_print(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "[twilio]\nauth_token = 'supersecret-value'\n"))
    assert "supersecret-value" not in repr(settings)
    assert "supersecret-value" not in str(settings.model_dump())


def test_cli_config_error_exits_2_without_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "[http]\nport = 'abc'\n")
    proc = subprocess.run(
        [sys.executable, "main.py", "--config", str(path), "migrate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "http.port" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_cli_env_error_exits_2(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "TICKETPILOT_ADAPTERS__MODE": "live"}
    proc = subprocess.run(
        [sys.executable, "main.py", "--config", str(write(tmp_path, "")), "serve"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert [
        line.removeprefix("configuration error: ").split(": ", 1)[0] for line in lines
    ] == LIVE_CREDENTIALS


def test_cli_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "TICKETPILOT_DATABASE__URL": "postgresql://nobody@127.0.0.1:1/none"}
    proc = subprocess.run(
        [sys.executable, "main.py", "--config", str(write(tmp_path, "")), "migrate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("cannot start:") and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("name", "value", "key"),
    [
        ("TICKETPILOT_POLICY__EXCLUDED_USERS", "[x", "policy.excluded_users"),
        ("TICKETPILOT_LLM__TAXONOMY", '["PASSWORD_RESET",', "llm.taxonomy"),
        ("TICKETPILOT_POLICY", "{not json", "policy"),
    ],
)
def test_cli_malformed_env_value_is_one_line_naming_the_key_and_exits_2(
    tmp_path: Path, name: str, value: str, key: str
) -> None:
    import os

    proc = subprocess.run(
        [sys.executable, "main.py", "--config", str(write(tmp_path, "")), "migrate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, name: value},
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    [line] = proc.stderr.splitlines()
    assert line.startswith(f"configuration error: {key}: ") and name in line


def test_malformed_env_lists_are_all_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TICKETPILOT_POLICY__EXCLUDED_USERS", "[x")
    monkeypatch.setenv("TICKETPILOT_POLICY__EXCLUDED_GROUPS", "{")
    monkeypatch.setenv("TICKETPILOT_HTTP__PORT", "8081")  # a valid override beside them changes nothing
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, ""))
    assert set(info.value.keys) == {"policy.excluded_users", "policy.excluded_groups"}


def test_well_formed_env_lists_still_load(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TICKETPILOT_POLICY__EXCLUDED_USERS", '["ceo@contoso.example"]')
    settings = load_settings(write(tmp_path, ""))
    assert settings.policy.excluded_users == ("ceo@contoso.example",)
