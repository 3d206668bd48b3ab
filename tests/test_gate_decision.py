"""The pure decision function: every blocker by name, the shadow mode, and the playbook choice."""

from __future__ import annotations

from dataclasses import replace

import pytest
from gate_fakes import candidate, classification, make_playbook

from ticketpilot.config import DEFAULT_TAXONOMY
from ticketpilot.gate.blockers import BlockerName
from ticketpilot.gate.classification import RiskFlag
from ticketpilot.gate.decision import Decision, Outcome, decide
from ticketpilot.gate.facts import ClassifierFailure, PolicySnapshot, RequesterFacts

GOOD_REQUESTER = RequesterFacts(
    email="alice@contoso.com",
    user_id="u-alice",
    user_principal_name="alice@contoso.com",
    mail="alice@contoso.com",
    enabled=True,
    has_phone=True,
    privileged=False,
    group_ids=("g-sales",),
)
NO_POLICY = PolicySnapshot()


def run(
    classified: object = None,
    requester: RequesterFacts = GOOD_REQUESTER,
    candidates: list[object] | None = None,
    policy: PolicySnapshot = NO_POLICY,
) -> Decision:
    return decide(
        classified if classified is not None else classification(),  # type: ignore[arg-type]
        requester,
        candidates if candidates is not None else [candidate()],  # type: ignore[arg-type]
        policy,
        taxonomy=DEFAULT_TAXONOMY,
    )


def names(decision: Decision) -> list[str]:
    return [b.name.value for b in decision.blockers]


def test_a_clean_ticket_is_automated_with_its_playbook() -> None:
    decision = run()
    assert decision.outcome is Outcome.AUTOMATED
    assert decision.playbook_id == "password_reset"
    assert decision.blockers == ()


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"classified": ClassifierFailure("timeout", "llm", "gpt", "no answer in 20s")}, "classifier_error"),
        ({"classified": classification("PRINTER_ISSUE")}, "no_playbook"),
        ({"classified": classification("MADE_UP_CATEGORY")}, "no_playbook"),
        ({"candidates": [candidate(enabled=False)]}, "playbook_disabled"),
        ({"candidates": [candidate(make_playbook(enabled=False))]}, "playbook_disabled"),
        ({"classified": classification(confidence=0.79)}, "low_confidence"),
        ({"classified": classification(own_account=False)}, "not_own_account"),
        ({"classified": classification(risk_flags=(RiskFlag.MANIPULATION,))}, "risk_flags"),
        (
            {"requester": RequesterFacts(email="x@y.z", unresolved_reason="no Entra user")},
            "requester_unresolved",
        ),
        ({"requester": replace(GOOD_REQUESTER, enabled=False)}, "account_disabled"),
        (
            {"requester": replace(GOOD_REQUESTER, privileged=True, privilege_detail="direct:Global Admin")},
            "privileged_account",
        ),
        ({"requester": replace(GOOD_REQUESTER, privileged=None)}, "privileged_account"),
        ({"policy": PolicySnapshot(excluded_users=frozenset({"alice@contoso.com"}))}, "excluded_user"),
        ({"policy": PolicySnapshot(excluded_users=frozenset({"u-alice"}))}, "excluded_user"),
        ({"policy": PolicySnapshot(excluded_groups=frozenset({"g-sales"}))}, "excluded_group"),
        ({"requester": replace(GOOD_REQUESTER, has_phone=False)}, "no_phone_on_record"),
        ({"policy": PolicySnapshot(cooldown_detail="reset 2 h ago")}, "cooldown"),
        ({"policy": PolicySnapshot(rate_limited_detail="20 in the last hour")}, "rate_limited"),
        ({"policy": PolicySnapshot(kill_switch_global=True)}, "kill_switch_global"),
        ({"candidates": [candidate(kill_switch=True)]}, "kill_switch_playbook"),
        ({"policy": PolicySnapshot(killed_playbooks=frozenset({"password_reset"}))}, "kill_switch_playbook"),
    ],
)
def test_each_blocker_makes_the_ticket_manual_and_is_recorded_by_name(
    kwargs: dict[str, object], expected: str
) -> None:
    decision = run(**kwargs)  # type: ignore[arg-type]
    assert decision.outcome is Outcome.MANUAL
    assert names(decision) == [expected]
    assert all(b.detail for b in decision.blockers)


def test_every_blocker_is_recorded_not_only_the_first() -> None:
    decision = run(
        classification(
            confidence=0.5, own_account=False, risk_flags=(RiskFlag.OTHER_PERSON, RiskFlag.CONTACT_IN_BODY)
        ),
        replace(GOOD_REQUESTER, enabled=False, privileged=True, has_phone=False),
        policy=PolicySnapshot(kill_switch_global=True, cooldown_detail="x", rate_limited_detail="y"),
    )
    assert decision.outcome is Outcome.MANUAL
    assert set(names(decision)) == {
        "low_confidence",
        "not_own_account",
        "risk_flags",
        "account_disabled",
        "privileged_account",
        "no_phone_on_record",
        "kill_switch_global",
        "cooldown",
        "rate_limited",
    }
    risk = next(b for b in decision.blockers if b.name is BlockerName.RISK_FLAGS)
    assert risk.detail == "contact_in_body, other_person"


def test_the_exact_threshold_passes() -> None:
    assert run(classification(confidence=0.8)).outcome is Outcome.AUTOMATED


def test_a_playbook_without_sms_does_not_need_a_phone() -> None:
    decision = run(
        requester=replace(GOOD_REQUESTER, has_phone=False), candidates=[candidate(make_playbook(sms=False))]
    )
    assert decision.outcome is Outcome.AUTOMATED


def test_an_unresolved_requester_is_not_also_blamed_for_a_missing_phone() -> None:
    decision = run(requester=RequesterFacts(email="ghost@contoso.com", unresolved_reason="no Entra user"))
    assert names(decision) == ["requester_unresolved"]


def test_exclusions_match_case_insensitively_on_any_identifier() -> None:
    requester = replace(
        GOOD_REQUESTER, email="Alice@Contoso.com", user_principal_name="ALICE@contoso.onmicrosoft.com"
    )
    policy = PolicySnapshot(excluded_users=frozenset({"alice@contoso.onmicrosoft.com"}))
    assert names(run(requester=requester, policy=policy)) == ["excluded_user"]
    groups = PolicySnapshot(excluded_groups=frozenset({"g-vip"}))
    assert names(run(requester=replace(GOOD_REQUESTER, group_ids=("G-VIP",)), policy=groups)) == [
        "excluded_group"
    ]


def test_a_classifier_failure_is_manual_without_a_playbook_and_names_the_reason() -> None:
    decision = run(ClassifierFailure("refusal", "llm", "gpt-4o-mini", "the model declined"))
    assert decision.outcome is Outcome.MANUAL
    assert decision.candidate is None
    assert decision.blockers[0].detail == "llm: refusal: the model declined"


def test_a_shadow_playbook_records_that_it_would_have_run() -> None:
    shadow = candidate(make_playbook("mfa_reset", sub_categories=("MFA_RESET",), mode="shadow"))
    decision = run(classification("MFA_RESET"), candidates=[shadow])
    assert decision.outcome is Outcome.SHADOW
    assert decision.playbook_id == "mfa_reset"
    assert decision.blockers == ()


def test_a_blocked_shadow_playbook_is_manual_and_keeps_the_playbook_and_blockers() -> None:
    shadow = candidate(make_playbook("mfa_reset", sub_categories=("MFA_RESET",), mode="shadow"))
    decision = run(classification("MFA_RESET", confidence=0.3), candidates=[shadow])
    assert decision.outcome is Outcome.MANUAL
    assert decision.playbook_id == "mfa_reset"
    assert names(decision) == ["low_confidence"]


def test_an_active_playbook_is_preferred_to_a_shadow_one_and_disabled_ones_are_skipped() -> None:
    active = candidate(make_playbook("b_active"))
    shadow = candidate(make_playbook("a_shadow", mode="shadow"))
    disabled = candidate(make_playbook("a_disabled"), enabled=False)
    decision = run(candidates=[disabled, shadow, active])
    assert decision.outcome is Outcome.AUTOMATED
    assert decision.playbook_id == "b_active"


def test_only_playbooks_triggered_by_the_sub_category_are_considered() -> None:
    mfa = candidate(make_playbook("mfa_reset", sub_categories=("MFA_RESET",)))
    assert names(run(candidates=[mfa])) == ["no_playbook"]


def test_rate_limit_alone_is_what_opens_the_breaker() -> None:
    limited = PolicySnapshot(rate_limited_detail="limit")
    assert run(policy=limited).only_rate_limited
    assert not run(classification(confidence=0.1), policy=limited).only_rate_limited
    assert not run(classification("PRINTER_ISSUE"), policy=limited).only_rate_limited
