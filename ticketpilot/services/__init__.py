"""The step services playbooks name (DESIGN §4), behind the step interface of :mod:`ticketpilot.steps`.

Wiring (``service.py``)::

    sink = DeferredSignalSink()
    desk = build_approval_desk(pool, settings, sink)
    reports = SmsReports(sink)                                     # Twilio delivery reports → signals
    adapters = build_sandbox_adapters(settings, ledger, desk, sms_reports=reports)  # or the live adapters
    steps = build_step_services(adapters, step_deps_from_settings(settings, desk))
    engine = Engine(..., steps)
    sink.bind(engine.deliver_signal)
"""

from __future__ import annotations

from dataclasses import dataclass

from ticketpilot.adapters.base import AdapterSet
from ticketpilot.config import Settings
from ticketpilot.services.approval_records import ApprovalRejected, ApprovalRequest, DecisionOutcome
from ticketpilot.services.approvals import SANDBOX_TWILIO_TOKEN, ApprovalDesk, build_approval_desk
from ticketpilot.services.common import Clock, KillSwitchCheck, utcnow
from ticketpilot.services.delivery import SmsDelivery
from ticketpilot.services.email_delivery import EmailDelivery
from ticketpilot.services.executor import IdentityRecheck, ResetPassword
from ticketpilot.services.manager import ManagerApproval
from ticketpilot.services.mfa import MfaVerification
from ticketpilot.services.signals import DeferredSignalSink, SignalSink
from ticketpilot.services.sms_reports import DeliveryReport, SmsReports
from ticketpilot.steps import StepService

__all__ = [
    "SANDBOX_TWILIO_TOKEN",
    "ApprovalDesk",
    "ApprovalRejected",
    "ApprovalRequest",
    "DecisionOutcome",
    "DeferredSignalSink",
    "DeliveryReport",
    "EmailDelivery",
    "IdentityRecheck",
    "KillSwitchCheck",
    "ManagerApproval",
    "MfaVerification",
    "ResetPassword",
    "SignalSink",
    "SmsDelivery",
    "SmsReports",
    "StepDeps",
    "build_approval_desk",
    "build_step_services",
    "step_deps_from_settings",
]


@dataclass(frozen=True)
class StepDeps:
    """What the step services need beside the adapters."""

    approvals: ApprovalDesk
    public_url: str
    sms_fallback_after_s: float
    """Manager approval: seconds after the step started before the SMS fallback."""
    approval_ttl_s: float
    manager_answer_timeout_s: float | None = None
    """Give up on the manager this long after the step started (sandbox); None: wait for the step deadline."""
    delivery_report_wait_s: float = 120.0
    """``delivery.sms``: how long an attempt waits for Twilio's final delivery report."""
    clock: Clock = utcnow
    kill_switch: KillSwitchCheck | None = None
    """``executor.reset_password`` asks it before issuing a credential (None: no check, unit tests)."""
    identity_recheck: IdentityRecheck | None = None
    """``executor.reset_password`` reads the identity signals again before issuing (None: no check)."""


def step_deps_from_settings(
    settings: Settings,
    approvals: ApprovalDesk,
    *,
    clock: Clock = utcnow,
    kill_switch: KillSwitchCheck | None = None,
) -> StepDeps:
    """Live: ``teams.sms_fallback_after_s``, ``twilio.delivery_report_wait_s``; sandbox: the short
    ``sandbox.manager_*`` and ``sandbox.sms_report_wait_s`` delays."""
    sandbox = settings.adapters.mode == "sandbox"
    return StepDeps(
        approvals=approvals,
        public_url=settings.http.public_url,
        sms_fallback_after_s=(
            settings.sandbox.manager_sms_fallback_after_s if sandbox else settings.teams.sms_fallback_after_s
        ),
        approval_ttl_s=settings.teams.approval_ttl_s,
        manager_answer_timeout_s=settings.sandbox.manager_timeout_s if sandbox else None,
        delivery_report_wait_s=(
            settings.sandbox.sms_report_wait_s if sandbox else settings.twilio.delivery_report_wait_s
        ),
        clock=clock,
        kill_switch=kill_switch,
        identity_recheck=IdentityRecheck(
            security_info_window_days=settings.policy.security_info_window_days,
            require_identity_signals=settings.policy.require_identity_signals,
            clock=clock,
        ),
    )


def build_step_services(adapters: AdapterSet, deps: StepDeps) -> dict[str, StepService]:
    """Every step service by the name playbooks use."""
    services: list[StepService] = [
        MfaVerification(adapters.directory, adapters.mfa),
        ManagerApproval(
            adapters.directory,
            adapters.cards,
            adapters.sms,
            deps.approvals,
            public_url=deps.public_url,
            sms_fallback_after_s=deps.sms_fallback_after_s,
            approval_ttl_s=deps.approval_ttl_s,
            answer_timeout_s=deps.manager_answer_timeout_s,
            clock=deps.clock,
        ),
        ResetPassword(
            adapters.directory, kill_switch=deps.kill_switch, identity_recheck=deps.identity_recheck
        ),
        SmsDelivery(
            adapters.directory,
            adapters.sms,
            public_url=deps.public_url,
            report_wait_s=deps.delivery_report_wait_s,
        ),
        EmailDelivery(adapters.directory, adapters.mail),
    ]
    return {service.name: service for service in services}
