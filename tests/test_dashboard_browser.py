"""The dashboard in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright's sync API)
against the real service running in a thread. Screenshots go to tests/artifacts/ (gitignored)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_support import (
    ADMIN_TOKEN,
    STEP_SECRET,
    LiveService,
    dashboard_app,
    fresh_database,
    make_settings,
)

from ticketpilot.http.dashboard_queries import get_global_kill_switch

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TIMEOUT_MS = 10_000
BROKEN_PLAYBOOK = "id: broken_one\nname: Broken\nversion: '1'\ntriggers: {sub_categories: [OTHER]}\nsteps: 1"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="no /usr/bin/chromium (apt-get install chromium); a browser is never downloaded",
)

if CHROMIUM.exists():
    from playwright.sync_api import Browser, Page, expect, sync_playwright


@pytest.fixture(scope="module")
def service(
    pg_admin_url: str, pg_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveService]:
    folder = tmp_path_factory.mktemp("dashboard")
    settings = make_settings(folder)
    (folder / "playbooks" / "broken.yml").write_text(BROKEN_PLAYBOOK, encoding="utf-8")
    with fresh_database(pg_admin_url, pg_template) as url, LiveService(settings, url, dashboard_app) as live:
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            timeout=30_000,
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) whose page fails the test on any script error or CSP refusal.

    HTTP error statuses the tests provoke on purpose (a 401 login page) are not script errors."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    tab.on(
        "console",
        lambda msg: (
            problems.append(f"console: {msg.text}")
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    yield tab
    context.close()
    assert problems == []


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def _login(page: Page, service: LiveService) -> None:
    page.goto(service.base_url + "/")
    expect(page).to_have_url(service.base_url + "/login")
    page.fill("#secret", ADMIN_TOKEN)
    page.click("#login-submit")
    expect(page).to_have_url(service.base_url + "/")
    page.wait_for_selector("body[data-ready='1']")


def test_login_then_overview(page: Page, service: LiveService) -> None:
    page.goto(service.base_url + "/login")
    page.fill("#secret", "wrong-token")
    page.click("#login-submit")
    expect(page.locator("p.error")).to_contain_text("not right")
    _shot(page, "login-failed.png")
    page.fill("#secret", ADMIN_TOKEN)
    page.click("#login-submit")
    page.wait_for_selector("body[data-ready='1']")
    # Default period: last 30 days (the 40-day-old ticket is outside).
    expect(page.locator("#card-received .value")).to_have_text("6")
    expect(page.locator("#card-rate .value")).to_have_text("50.0 %")
    expect(page.locator("#card-resolved .value")).to_have_text("1")
    expect(page.locator("#card-median .value")).to_have_text("1 min 35 s")
    expect(page.locator("#hours-saved tbody tr")).to_have_count(1)
    _shot(page, "overview.png")
    page.select_option("#period", "all")
    expect(page.locator("#card-received .value")).to_have_text("7")


def test_filter_executions_and_open_a_timeline(page: Page, service: LiveService) -> None:
    _login(page, service)
    page.click("#nav a[data-view='executions']")
    expect(page.locator("#executions tbody tr.execution-row")).to_have_count(3)
    page.select_option("#f-state", "ESCALATED")
    page.click("#exec-filters-apply")
    rows = page.locator("#executions tbody tr.execution-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("#1002")
    _shot(page, "executions-filtered.png")
    rows.first.locator("a.timeline-link").click()
    expect(page.locator("#timeline li.step")).to_have_count(3)
    expect(page.locator("#escalation-reason")).to_have_text("Manager denied the request")
    expect(page.locator("#timeline li.step").nth(1)).to_contain_text("manager denied")
    _shot(page, "timeline-escalated.png")
    assert service.seeded is not None
    page.goto(f"{service.base_url}/#/executions/{service.seeded.resolved}")
    expect(page.locator("#timeline li.step")).to_have_count(5)
    expect(page.locator("#timeline li.step").nth(1)).to_contain_text("attempt 1")
    assert STEP_SECRET not in page.content()


def test_attacker_text_is_shown_not_executed(page: Page, service: LiveService) -> None:
    _login(page, service)
    page.click("#nav a[data-view='decisions']")
    row = page.locator("#decisions tr.decision-row", has_text="#1003")
    expect(row).to_have_count(1)
    expect(row.locator(".summary")).to_contain_text('<img src=x onerror="window.__xss=1">Forgot password')
    expect(row.locator("td.reasoning")).to_contain_text("<script>window.__xss=3</script>")
    row.locator("td.reasoning").hover()
    assert page.evaluate("window.__xss") is None
    assert page.locator("#decisions img, #decisions script, #decisions b").count() == 0
    _shot(page, "decisions-xss.png")
    page.click("#nav a[data-view='shadow']")
    expect(page.locator("#shadow tr.shadow-row")).to_have_count(2)
    expect(page.locator("#shadow-summary tbody tr")).to_contain_text("mfa_reset")
    _shot(page, "shadow-report.png")


def test_kill_switches_take_effect(page: Page, service: LiveService) -> None:
    _login(page, service)
    page.click("#nav a[data-view='playbooks']")
    expect(page.locator("#playbooks tr.playbook-row")).to_have_count(2)
    expect(page.locator("#playbook-errors")).to_contain_text("broken.yml")
    expect(page.locator("#view")).not_to_contain_text("null")
    expect(page.locator("#global-kill-state")).to_have_text("off")
    page.click("#global-kill-toggle")
    expect(page.locator("#global-kill-state")).to_have_text("ON")
    expect(page.locator("#kill-banner")).to_be_visible()
    stored = service.call(lambda s: get_global_kill_switch(s.pool))
    assert stored.on is True and stored.by == "dashboard session"
    row = page.locator("#playbooks tr.playbook-row[data-playbook='password_reset']")
    row.locator("button.toggle-kill").click()
    expect(row.locator(".badge.killed")).to_be_visible()
    assert service.services is not None
    active = service.services.registry.active("password_reset")
    assert active is not None and active.kill_switch is True
    _shot(page, "playbooks-killed.png")
    # Back to normal, through the page as well.
    page.locator("#playbooks tr.playbook-row[data-playbook='password_reset'] button.toggle-kill").click()
    expect(
        page.locator("#playbooks tr.playbook-row[data-playbook='password_reset'] .badge.live")
    ).to_be_visible()
    page.click("#global-kill-toggle")
    expect(page.locator("#global-kill-state")).to_have_text("off")
    expect(page.locator("#kill-banner")).to_be_hidden()
    assert service.call(lambda s: get_global_kill_switch(s.pool)).on is False


def test_logout(page: Page, service: LiveService) -> None:
    _login(page, service)
    page.click("#logout")
    expect(page).to_have_url(service.base_url + "/login")
    page.goto(service.base_url + "/")
    expect(page).to_have_url(service.base_url + "/login")
