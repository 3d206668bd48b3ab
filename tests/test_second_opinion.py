"""``[llm] mode = "both"``: the LLM (real openai client against the OpenAI fake) and a second classifier must
agree on the playbook and neither may flag a risk; the decision record shows both verdicts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from fakes.openai import DEFAULT_ANSWER, OpenAiFake
from gate_fakes import FakeClassifier, Harness, build_harness, classification, ticket
from pydantic import SecretStr

from ticketpilot.config import ConfigError, LlmConfig, Settings, load_settings
from ticketpilot.gate.blockers import BlockerName
from ticketpilot.gate.classification import RiskFlag
from ticketpilot.gate.combined import CombinedClassifier
from ticketpilot.gate.decision import Outcome
from ticketpilot.gate.llm import LlmClassifier
from ticketpilot.gate.record import DecisionRecord
from ticketpilot.gate.writeback import decision_note

API_KEY = "sk-live-both-5e6f7a8b"


@pytest.fixture
async def llm_server() -> AsyncIterator[OpenAiFake]:
    fake = OpenAiFake(api_key=API_KEY)
    await fake.start()
    yield fake
    await fake.stop()
    assert fake.spec_errors == []


def llm_config(fake: OpenAiFake) -> LlmConfig:
    return LlmConfig(base_url=fake.base_url, api_key=SecretStr(API_KEY), timeout_s=5.0, max_retries=0)


@pytest.fixture
async def both(pool: asyncpg.Pool, llm_server: OpenAiFake) -> AsyncIterator[tuple[Harness, FakeClassifier]]:
    """The real gate with the combined classifier: the LLM, and a scripted second opinion."""
    second = FakeClassifier(
        classification("ACCOUNT_LOCKOUT", confidence=0.9, reasoning="locked out, own account")
    )
    combined = CombinedClassifier(LlmClassifier(llm_config(llm_server)), second)
    h = build_harness(pool, classifier=combined)  # type: ignore[arg-type]
    yield h, second
    await h.close()
    await combined.aclose()


def blocker_names(record: DecisionRecord) -> list[str]:
    return [b.name.value for b in record.blockers]


async def stored(h: Harness, ticket_id: int) -> DecisionRecord:
    record = await h.gate.stored_decision(ticket_id)
    assert record is not None
    return record


async def test_agreement_on_the_playbook_is_automated_and_both_verdicts_are_recorded(
    both: tuple[Harness, FakeClassifier], llm_server: OpenAiFake
) -> None:
    h, _ = both
    record = await h.gate.decide(ticket(5101), source="webhook")
    # PASSWORD_RESET (LLM) and ACCOUNT_LOCKOUT (second opinion) lead to the same playbook
    assert record.outcome is Outcome.AUTOMATED and record.playbook_id == "password_reset"
    assert len(llm_server.calls("POST", "/chat/completions")) == 1
    assert h.engine.starts and h.engine.starts[0]["ticket_id"] == 5101

    row = await stored(h, 5101)
    assert row.classifier == "both" and row.classifier_version == "llm:gpt-4o-mini+1"
    assert row.classification is not None
    assert row.classification.confidence == 0.9  # the lower of the two
    for text in (row.classification.reasoning, decision_note(row), str(row.as_dict())):
        assert "llm (llm:gpt-4o-mini): PASSWORD_RESET 0.93" in text
        assert DEFAULT_ANSWER["reasoning"] in text
        assert (
            "fake (1): ACCOUNT_LOCKOUT 0.90, own account, risk flags: none — locked out, own account" in text
        )


@pytest.mark.parametrize(
    ("llm_sub", "second_sub", "detail"),
    [
        (
            "PASSWORD_RESET",
            "SOFTWARE_ISSUE",
            "llm: PASSWORD_RESET → password_reset vs fake: SOFTWARE_ISSUE → no playbook",
        ),
        (
            "SOFTWARE_ISSUE",
            "PASSWORD_RESET",
            "llm: SOFTWARE_ISSUE → no playbook vs fake: PASSWORD_RESET → password_reset",
        ),
    ],
)
async def test_disagreement_stays_manual_with_a_blocker_naming_it(
    both: tuple[Harness, FakeClassifier], llm_server: OpenAiFake, llm_sub: str, second_sub: str, detail: str
) -> None:
    h, second = both
    llm_server.answer_with(DEFAULT_ANSWER | {"sub_category": llm_sub})
    second.answer = classification(second_sub)
    record = await h.gate.decide(ticket(5201), source="webhook")
    assert record.outcome is Outcome.MANUAL and h.engine.starts == []
    assert "classifiers_disagree" in blocker_names(record)
    disagreement = next(b for b in record.blockers if b.name is BlockerName.CLASSIFIERS_DISAGREE)
    assert disagreement.detail == detail
    assert "classifiers_disagree: " + detail in decision_note(await stored(h, 5201))


async def test_a_risk_flag_from_the_llm_alone_keeps_it_manual(
    both: tuple[Harness, FakeClassifier], llm_server: OpenAiFake
) -> None:
    h, _ = both
    llm_server.answer_with(DEFAULT_ANSWER | {"risk_flags": ["contact_in_body"]})
    record = await h.gate.decide(ticket(5301), source="webhook")
    assert record.outcome is Outcome.MANUAL and h.engine.starts == []
    assert blocker_names(record) == ["risk_flags"]
    assert record.blockers[0].detail == "contact_in_body"
    assert "llm (llm:gpt-4o-mini): PASSWORD_RESET 0.93, own account, risk flags: contact_in_body" in (
        (await stored(h, 5301)).classification.reasoning  # type: ignore[union-attr]
    )


async def test_a_risk_flag_from_the_offline_classifier_alone_keeps_it_manual(
    both: tuple[Harness, FakeClassifier],
) -> None:
    h, second = both
    second.answer = classification(risk_flags=(RiskFlag.OTHER_PERSON,), own_account=False)
    record = await h.gate.decide(ticket(5401), source="webhook")
    assert record.outcome is Outcome.MANUAL and h.engine.starts == []
    assert set(blocker_names(record)) == {"risk_flags", "not_own_account"}
    assert record.classification is not None and record.classification.risk_flags == (RiskFlag.OTHER_PERSON,)


async def test_an_llm_failure_is_never_automated_on_the_offline_verdict_alone(
    both: tuple[Harness, FakeClassifier], llm_server: OpenAiFake
) -> None:
    h, _ = both
    llm_server.refuse()
    record = await h.gate.decide(ticket(5501), source="webhook")
    assert record.outcome is Outcome.MANUAL and h.engine.starts == []
    assert blocker_names(record) == ["classifier_error"]
    assert "llm_refusal" in record.blockers[0].detail


# --- configuration -------------------------------------------------------------------------------------


def mode_of(**llm: Any) -> str:
    return Settings(llm=LlmConfig(**llm)).llm.effective_mode


def test_the_default_mode_is_both_with_a_key_and_offline_without() -> None:
    assert mode_of(api_key=SecretStr("sk-x")) == "both"
    assert mode_of() == "offline"
    assert mode_of(api_key=SecretStr("sk-x"), mode="llm") == "llm"
    assert mode_of(api_key=SecretStr("sk-x"), mode="offline") == "offline"


@pytest.mark.parametrize("mode", ["llm", "both"])
def test_a_mode_that_needs_the_llm_without_a_key_is_a_config_error(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TICKETPILOT_LLM__MODE", mode)
    monkeypatch.setenv("TICKETPILOT_LLM__API_KEY", "")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert err.value.key == "llm" and f'mode = "{mode}" needs llm.api_key' in err.value.problem


def test_the_service_builds_the_classifier_of_the_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    from ticketpilot.gate.offline import OfflineClassifier
    from ticketpilot.service import build_classifier

    keyed = LlmConfig(api_key=SecretStr("sk-x"))
    assert isinstance(build_classifier(Settings(llm=keyed)), CombinedClassifier)
    assert isinstance(build_classifier(Settings(llm=keyed.model_copy(update={"mode": "llm"}))), LlmClassifier)
    assert isinstance(build_classifier(Settings()), OfflineClassifier)


def test_classify_eval_applies_the_same_agreement_rule() -> None:
    from pathlib import Path

    from ticketpilot.gate.cli import gate_would_automate
    from ticketpilot.gate.combined import SecondOpinion, merge
    from ticketpilot.playbooks.loader import validate_path

    playbooks, _ = validate_path(Path(__file__).resolve().parents[1] / "playbooks")
    llm = classification("PASSWORD_RESET", confidence=0.99)

    def pair(second_sub: str) -> SecondOpinion:
        second = classification(second_sub, confidence=0.99)
        return SecondOpinion(
            classification=merge(llm, second),
            classifier="both",
            classifier_version="x",
            verdicts=(llm, second),
        )

    decide = {"playbooks": playbooks, "taxonomy": Settings().llm.taxonomy}
    assert gate_would_automate(pair("ACCOUNT_LOCKOUT"), **decide)  # type: ignore[arg-type]
    assert not gate_would_automate(pair("SOFTWARE_ISSUE"), **decide)  # type: ignore[arg-type]
