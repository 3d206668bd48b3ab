"""The playbook registry on a real PostgreSQL and a real watched folder: versions, activation, hot reload."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest
from structlog.testing import capture_logs

from ticketpilot.metrics import REGISTRY
from ticketpilot.playbooks.loader import content_hash
from ticketpilot.playbooks.registry import PlaybookConflict, PlaybookRegistry
from ticketpilot.playbooks.validate import PlaybookInvalid

ROOT = Path(__file__).resolve().parents[1]
PASSWORD_RESET = (ROOT / "playbooks" / "password_reset.yml").read_text(encoding="utf-8")
MFA_RESET = (ROOT / "playbooks" / "mfa_reset.yml").read_text(encoding="utf-8")
BROKEN = PASSWORD_RESET.replace("    timeout: 3m\n", "    timeout: 0s\n")  # not a positive duration
BROKEN_LINE = PASSWORD_RESET.splitlines().index("    timeout: 3m") + 1


def load_errors_gauge() -> float | None:
    return REGISTRY.get_sample_value("ticketpilot_playbook_load_errors")


def versioned(text: str, version: str) -> str:
    assert 'version: "1.0.0"' in text
    return text.replace('version: "1.0.0"', f'version: "{version}"')


def atomic_write(path: Path, text: str) -> None:
    """An editor's save: write a temporary file next to it, then rename it over the original."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


async def eventually(condition: Callable[[], bool], what: str, within_s: float = 5.0) -> None:
    """Poll ``condition`` until it holds, for at most ``within_s`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not within {within_s}s: {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "playbooks"
    d.mkdir()
    (d / "password_reset.yml").write_text(PASSWORD_RESET, encoding="utf-8")
    (d / "mfa_reset.yml").write_text(MFA_RESET, encoding="utf-8")
    return d


@pytest.fixture
async def registry(pool: asyncpg.Pool, folder: Path) -> AsyncIterator[PlaybookRegistry]:
    reg = PlaybookRegistry(pool, folder, watch=False, debounce_ms=50)
    await reg.start()
    yield reg
    await reg.stop()


async def test_start_loads_and_stores_the_shipped_playbooks(
    registry: PlaybookRegistry, pool: asyncpg.Pool
) -> None:
    assert registry.problems() == []
    assert [lp.playbook_id for lp in registry.loaded()] == ["mfa_reset", "password_reset"]
    reset = registry.active("password_reset")
    assert reset is not None
    assert reset.content_hash == content_hash(PASSWORD_RESET)
    assert (reset.enabled, reset.kill_switch, reset.mode, reset.source) == (True, False, "active", "file")
    assert [lp.playbook_id for lp in registry.for_sub_category("ACCOUNT_LOCKOUT")] == ["password_reset"]
    assert [lp.playbook_id for lp in registry.for_sub_category("MFA_RESET")] == ["mfa_reset"]
    assert registry.for_sub_category("PRINTER_ISSUE") == []
    row = await pool.fetchrow("SELECT * FROM playbooks WHERE playbook_id = 'password_reset'")
    assert (row["content_hash"], row["version"], row["yaml_text"], row["source"]) == (
        content_hash(PASSWORD_RESET),
        "1.0.0",
        PASSWORD_RESET,
        "file",
    )


async def test_each_content_is_stored_once(
    registry: PlaybookRegistry, pool: asyncpg.Pool, folder: Path
) -> None:
    await registry.reload()
    await registry.reload()
    again = PlaybookRegistry(pool, folder, watch=False, debounce_ms=50)
    await again.start()
    await again.stop()
    assert await pool.fetchval("SELECT count(*) FROM playbooks") == 2
    (folder / "password_reset.yml").write_text(versioned(PASSWORD_RESET, "1.1.0"))
    await registry.reload()
    (folder / "password_reset.yml").write_text(PASSWORD_RESET)  # back to the first content: no new row
    await registry.reload()
    assert await pool.fetchval("SELECT count(*) FROM playbooks") == 3


async def test_activate_an_older_version_holds_until_the_file_changes(
    registry: PlaybookRegistry, pool: asyncpg.Pool, folder: Path
) -> None:
    (folder / "password_reset.yml").write_text(versioned(PASSWORD_RESET, "1.1.0"))
    await registry.reload()
    assert registry.active("password_reset").version == "1.1.0"  # type: ignore[union-attr]

    old = await registry.activate("password_reset", "1.0.0")
    assert (old.version, old.content_hash) == ("1.0.0", content_hash(PASSWORD_RESET))
    assert registry.active("password_reset") == old
    assert registry.for_sub_category("PASSWORD_RESET")[0].version == "1.0.0"

    await registry.reload()  # the file did not change: the operator's choice stands ...
    restarted = PlaybookRegistry(pool, folder, watch=False, debounce_ms=50)
    await restarted.start()  # ... also across a restart
    try:
        assert restarted.active("password_reset").version == "1.0.0"  # type: ignore[union-attr]
    finally:
        await restarted.stop()

    (folder / "password_reset.yml").write_text(versioned(PASSWORD_RESET, "1.2.0"))
    await registry.reload()  # a changed file is the source of truth again
    assert registry.active("password_reset").version == "1.2.0"  # type: ignore[union-attr]

    by_hash = await registry.activate("password_reset", content_hash(PASSWORD_RESET)[:12])
    assert by_hash.version == "1.0.0"
    with pytest.raises(KeyError):
        await registry.activate("password_reset", "9.9.9")
    with pytest.raises(KeyError):
        await registry.activate("no_such_playbook", "1.0.0")


async def test_pinned_versions_stay_readable(registry: PlaybookRegistry, folder: Path) -> None:
    pinned = registry.active("password_reset")
    assert pinned is not None
    (folder / "password_reset.yml").write_text(versioned(PASSWORD_RESET, "2.0.0"))
    await registry.reload()
    old = await registry.get_version("password_reset", pinned.content_hash)
    assert old.version == "1.0.0" and old == pinned.playbook
    with pytest.raises(KeyError):
        await registry.get_version("password_reset", "0" * 64)


async def test_switches_change_what_the_gate_sees(registry: PlaybookRegistry) -> None:
    await registry.set_enabled("password_reset", False)
    assert registry.active("password_reset").enabled is False  # type: ignore[union-attr]
    assert registry.for_sub_category("PASSWORD_RESET") == []
    await registry.set_enabled("password_reset", True)
    await registry.set_kill_switch("password_reset", True)
    served = registry.for_sub_category("PASSWORD_RESET")
    assert [(lp.playbook_id, lp.kill_switch) for lp in served] == [("password_reset", True)]
    with pytest.raises(KeyError):
        await registry.set_enabled("no_such_playbook", True)


async def test_api_versions_are_validated_stored_and_not_activated(registry: PlaybookRegistry) -> None:
    with pytest.raises(PlaybookInvalid) as caught:
        await registry.add_from_yaml(BROKEN)
    assert [p.line for p in caught.value.problems] == [BROKEN_LINE]
    assert caught.value.problems[0].file == "<api>"

    with pytest.raises(PlaybookConflict):
        await registry.add_from_yaml(
            re.sub(r"confidence_threshold: [0-9.]+", "confidence_threshold: 0.95", PASSWORD_RESET)
        )

    stored = await registry.add_from_yaml(versioned(PASSWORD_RESET, "1.5.0"))
    assert (stored.version, stored.source) == ("1.5.0", "api")
    assert registry.active("password_reset").version == "1.0.0"  # type: ignore[union-attr]
    listing = {p["id"]: p for p in await registry.list_all()}
    versions = listing["password_reset"]["versions"]
    assert [(v["version"], v["source"], v["active"]) for v in versions] == [
        ("1.0.0", "file", True),
        ("1.5.0", "api", False),
    ]
    detail = await registry.get("password_reset", "1.5.0")
    assert detail["selected"]["yaml"] == versioned(PASSWORD_RESET, "1.5.0")
    assert detail["selected"]["definition"]["version"] == "1.5.0"


async def test_a_broken_file_at_start_is_a_problem_and_not_loaded(pool: asyncpg.Pool, folder: Path) -> None:
    (folder / "password_reset.yml").write_text(BROKEN)
    reg = PlaybookRegistry(pool, folder, watch=False, debounce_ms=50)
    with capture_logs() as logs:
        await reg.start()
    try:
        assert [(Path(p.file).name, p.line) for p in reg.problems()] == [("password_reset.yml", BROKEN_LINE)]
        logged = [e for e in logs if e["event"] == "playbook_invalid"]
        assert [e["log_level"] for e in logged] == ["error"]
        assert logged[0]["problems"] == [str(reg.problems()[0])]
        assert reg.active("password_reset") is None
        assert load_errors_gauge() == 1
        listing = {p["id"]: p for p in await reg.list_all()}
        assert "password_reset" not in listing  # never had a good version
    finally:
        await reg.stop()


async def test_hot_reload_in_a_watched_folder(pool: asyncpg.Pool, folder: Path) -> None:
    path = folder / "password_reset.yml"
    reg = PlaybookRegistry(pool, folder, watch=True, debounce_ms=50)
    await reg.start()
    try:

        def version() -> str | None:
            lp = reg.active("password_reset")
            return lp.version if lp else None

        # An editor's atomic save of a new version is picked up and becomes active.
        atomic_write(path, versioned(PASSWORD_RESET, "1.1.0"))
        await eventually(lambda: version() == "1.1.0", "the new version is active")
        good = reg.active("password_reset")
        assert good is not None and good.content_hash == content_hash(versioned(PASSWORD_RESET, "1.1.0"))

        # A broken save never replaces the last good version; the problem is visible with its line.
        atomic_write(path, versioned(BROKEN, "1.2.0"))
        await eventually(lambda: bool(reg.problems()), "the broken file is reported")
        assert [(p.file, p.line, p.playbook_id) for p in reg.problems()] == [
            (str(path), BROKEN_LINE, "password_reset")
        ]
        assert reg.active("password_reset") == good
        assert reg.for_sub_category("PASSWORD_RESET") == [good]
        assert load_errors_gauge() == 1

        # The fixed file is picked up and the problem clears.
        atomic_write(path, versioned(PASSWORD_RESET, "1.3.0"))
        await eventually(lambda: version() == "1.3.0" and not reg.problems(), "the fixed version is active")
        assert load_errors_gauge() == 0
        pinned = reg.active("password_reset")
        assert pinned is not None

        # Deleting the file withdraws the playbook; a pinned execution can still read its version.
        path.unlink()
        await eventually(lambda: reg.for_sub_category("PASSWORD_RESET") == [], "the playbook is withdrawn")
        withdrawn = reg.active("password_reset")
        assert withdrawn is not None and withdrawn.enabled is False
        assert (
            await pool.fetchval(
                "SELECT file_present FROM playbook_state WHERE playbook_id = 'password_reset'"
            )
            is False
        )
        assert (await reg.get_version("password_reset", pinned.content_hash)).version == "1.3.0"
        assert reg.for_sub_category("MFA_RESET") != []  # the other playbook is untouched

        # Putting the file back serves it again.
        atomic_write(path, versioned(PASSWORD_RESET, "1.3.0"))
        await eventually(lambda: reg.for_sub_category("PASSWORD_RESET") != [], "the playbook is back")
    finally:
        await reg.stop()
    assert [t for t in asyncio.all_tasks() if t.get_name() == "playbook-watcher"] == []


async def test_other_processes_see_activation_through_notify(
    registry: PlaybookRegistry, pool: asyncpg.Pool, folder: Path
) -> None:
    (folder / "password_reset.yml").write_text(versioned(PASSWORD_RESET, "1.1.0"))
    await registry.reload()
    other = PlaybookRegistry(pool, folder, watch=False, debounce_ms=50)
    await other.start()
    try:
        assert other.active("password_reset").version == "1.1.0"  # type: ignore[union-attr]
        await registry.activate("password_reset", "1.0.0")
        await registry.set_kill_switch("mfa_reset", True)
        await eventually(
            lambda: (
                other.active("password_reset").version == "1.0.0"  # type: ignore[union-attr]
                and other.active("mfa_reset").kill_switch
            ),  # type: ignore[union-attr]
            "the other registry follows",
        )
    finally:
        await other.stop()


async def test_missing_folder_is_a_problem_but_keeps_stored_versions(
    registry: PlaybookRegistry, folder: Path
) -> None:
    shutil.rmtree(folder)
    await registry.reload()
    assert "playbooks folder not found" in registry.problems()[0].message
    assert registry.active("password_reset") is not None
    assert registry.for_sub_category("PASSWORD_RESET") != []


async def test_a_5000_digit_number_is_a_problem_at_start_and_in_a_watched_folder(
    pool: asyncpg.Pool, folder: Path
) -> None:
    # Issue 10 item 5: such a file made every reload raise, so a restart crash-looped and a deleted
    # playbook stayed active.
    huge = PASSWORD_RESET.replace("    timeout: 3m\n", "    timeout: " + "9" * 5000 + "\n")
    (folder / "mfa_reset.yml").write_text(
        MFA_RESET.replace("confidence_threshold:", "confidence_threshold: 1" + "0" * 5000 + " #")
    )
    reg = PlaybookRegistry(pool, folder, watch=True, debounce_ms=50)
    await reg.start()
    try:
        assert [Path(p.file).name for p in reg.problems()] == ["mfa_reset.yml"]
        assert load_errors_gauge() == 1
        path = folder / "password_reset.yml"
        atomic_write(path, versioned(huge, "1.1.0"))
        await eventually(lambda: len(reg.problems()) == 2, "the second broken file is reported")
        assert reg.for_sub_category("PASSWORD_RESET") != []  # the last good version still serves
        path.unlink()
        await eventually(
            lambda: reg.for_sub_category("PASSWORD_RESET") == [], "the deleted playbook is withdrawn"
        )
    finally:
        await reg.stop()
