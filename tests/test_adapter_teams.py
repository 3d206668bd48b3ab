"""The Teams Workflows card poster against the Workflows trigger fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fakes.teams import TeamsWorkflowFake
from pydantic import SecretStr
from structlog.testing import capture_logs

from ticketpilot.adapters.base import AdapterError
from ticketpilot.adapters.http_retry import RetryPolicy
from ticketpilot.adapters.teams import TeamsWorkflowPoster
from ticketpilot.config import TeamsConfig

CARD: dict[str, Any] = {
    "type": "AdaptiveCard",
    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
    "version": "1.4",
    "body": [{"type": "TextBlock", "text": "Approve a password reset for Alice?", "wrap": True}],
    "actions": [{"type": "Action.OpenUrl", "title": "Approve", "url": "https://tp.example/approve/abc"}],
}


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
async def teams() -> AsyncIterator[TeamsWorkflowFake]:
    fake = TeamsWorkflowFake()
    await fake.start()
    yield fake
    await fake.stop()
    assert fake.spec_errors == []


def make_poster(url: str, sleeps: Sleeps | None = None) -> TeamsWorkflowPoster:
    return TeamsWorkflowPoster(
        TeamsConfig(workflow_url=SecretStr(url)),
        http_timeout_s=5,
        retry=RetryPolicy(max_attempts=3, initial_backoff_s=0.01, max_backoff_s=0.02),
        sleep=sleeps or Sleeps(),
    )


async def test_card_is_posted_in_the_workflows_envelope(teams: TeamsWorkflowFake) -> None:
    poster = make_poster(teams.workflow_url)
    try:
        await poster.post_card(CARD)
    finally:
        await poster.aclose()
    assert teams.cards == [CARD]
    (request,) = teams.requests
    assert request.json()["type"] == "message"
    assert request.headers["Content-Type"] == "application/json"


async def test_server_errors_and_throttling_are_retried(teams: TeamsWorkflowFake) -> None:
    sleeps = Sleeps()
    teams.fail_next(502)
    teams.fail_next(429, headers={"Retry-After": "3"})
    poster = make_poster(teams.workflow_url, sleeps)
    try:
        await poster.post_card(CARD)
    finally:
        await poster.aclose()
    assert teams.cards == [CARD]
    assert len(teams.requests) == 3
    assert len(sleeps.delays) == 2 and sleeps.delays[1] == 3.0


async def test_outage_is_retryable_and_never_reveals_the_url(teams: TeamsWorkflowFake) -> None:
    teams.fail_next(503, times=10)
    poster = make_poster(teams.workflow_url)
    with capture_logs() as logs:
        try:
            with pytest.raises(AdapterError) as err:
                await poster.post_card(CARD)
        finally:
            await poster.aclose()
    assert err.value.retryable and err.value.status == 503
    assert teams.sig not in repr(err.value) + str(logs) + repr(poster)


async def test_refusal_is_not_retryable(teams: TeamsWorkflowFake) -> None:
    poster = make_poster(teams.workflow_url.replace(teams.sig, "forged"))
    try:
        with pytest.raises(AdapterError) as err:
            await poster.post_card(CARD)
    finally:
        await poster.aclose()
    assert not err.value.retryable and err.value.status == 401
    assert len(teams.requests) == 1


async def test_unreachable_host_is_retryable_without_the_url() -> None:
    poster = make_poster("http://127.0.0.1:9/workflows/x/triggers/manual/paths/invoke?sig=s3cr3t-sig-value")
    try:
        with pytest.raises(AdapterError) as err:
            await poster.post_card(CARD)
    finally:
        await poster.aclose()
    assert err.value.retryable
    assert "s3cr3t-sig-value" not in repr(err.value)


async def test_unconfigured_or_oversized_fails_fast(teams: TeamsWorkflowFake) -> None:
    with pytest.raises(AdapterError, match="not configured"):
        await make_poster("").post_card(CARD)
    poster = make_poster(teams.workflow_url)
    big = {**CARD, "body": [{"type": "TextBlock", "text": "x" * 30_000}]}
    try:
        with pytest.raises(AdapterError, match="28 KB"):
            await poster.post_card(big)
    finally:
        await poster.aclose()
    assert teams.requests == []
