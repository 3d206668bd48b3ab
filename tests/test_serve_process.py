"""The service as a real process: starts on an embedded PostgreSQL, stops cleanly on SIGINT/SIGTERM,
and a second start finds its data again (what `make run` does)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"service exited early with {proc.returncode}")
        try:
            status, body = _get(f"{base}/readyz")
            if status == 200:
                return body
            last = body
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"service not ready in {timeout}s: {last}")


def _start(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[http]
port = {port}
admin_token = "{"a" * 32}"
[database]
url = ""
embedded_dir = "{tmp_path / "var" / "pg"}"
[playbooks]
dir = "{ROOT / "playbooks"}"
watch = false
""",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETPILOT_")}
    env["TICKETPILOT_LOGGING__FORMAT"] = "json"
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "--config", str(config), "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_serve_stops_cleanly_and_restarts_on_its_data(tmp_path: Path, stop_signal: signal.Signals) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(tmp_path, port)
    try:
        body = _wait_ready(base, proc)
        assert body["status"] == "ready"
        assert _get(f"{base}/healthz") == (200, {"status": "ok"})
        proc.send_signal(stop_signal)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out.decode(errors="replace")[-2000:]
    log = out.decode(errors="replace")
    assert "service_stopped" in log
    assert "embedded_postgres_stopped" in log
    # the embedded server is really down: no postmaster left behind
    assert not (tmp_path / "var" / "pg" / "postmaster.pid").exists()

    proc = _start(tmp_path, port)
    try:
        body = _wait_ready(base, proc)
        checks = body["checks"]
        assert isinstance(checks, dict)
        assert checks["migrations"] == {"ok": True, "pending": []}
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "migration_applied" not in out.decode(errors="replace"), "second start re-applied migrations"
