"""The MFA connector's token, Twilio (account and sender), the Teams workflow URL, the LLM endpoint and model."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

from ticketpilot.adapters.base import AdapterError
from ticketpilot.adapters.http_retry import HttpClient, RetryPolicy
from ticketpilot.adapters.mfa_connector import AzureMfaConnector
from ticketpilot.adapters.twilio_sms import TwilioSmsSender
from ticketpilot.config import Settings
from ticketpilot.doctor.report import Check, CheckFailed
from ticketpilot.doctor.timebox import timed
from ticketpilot.playbooks.loader import LoadedPlaybook

WORKFLOW_PATH = re.compile(r"/workflows/[^/]+/triggers/[^/]+/paths/invoke$")
WORKFLOW_HOSTS = (".logic.azure.com", ".logic.azure.us", ".logic.azure.cn", ".api.powerplatform.com")
"""Logic Apps (Workflows in Teams) and Power Automate trigger hosts."""


def uses(playbooks: Sequence[LoadedPlaybook], service: str) -> list[str]:
    """The ids of the playbooks with a step calling ``service``."""
    return sorted(
        {lp.playbook_id for lp in playbooks if any(s.service == service for s in lp.playbook.steps)}
    )


# --- MFA connector -----------------------------------------------------------------------------------------


async def mfa(settings: Settings, timeout_s: float) -> list[Check]:
    if not settings.mfa.enabled:
        return [
            Check("mfa connector", True, "not enabled ([mfa] enabled = false: verification.mfa fails fast)")
        ]
    connector = AzureMfaConnector(
        settings.mfa,
        settings.entra,
        http_timeout_s=min(settings.adapters.http_timeout_s, timeout_s),
        retry=RetryPolicy(max_attempts=1),
        ca_bundle=settings.adapters.ca_bundle,
    )

    async def token() -> str:
        try:
            await connector.authenticate()
        except AdapterError as exc:
            if exc.status is not None and exc.status < 500:
                raise CheckFailed(
                    exc.message,
                    "check mfa.client_secret: a secret of the 'Azure Multi-Factor Auth Client' service principal "
                    "(981f26a1-…) in this tenant, not expired",
                ) from None
            raise
        return "connector token issued (no push sent)"

    try:
        return [await timed("mfa connector token", token(), timeout_s)]
    finally:
        await connector.aclose()


# --- Twilio ------------------------------------------------------------------------------------------------


async def twilio(settings: Settings, timeout_s: float) -> list[Check]:
    config = settings.twilio
    sender = TwilioSmsSender(
        config,
        http_timeout_s=min(settings.adapters.http_timeout_s, timeout_s),
        ca_bundle=settings.adapters.ca_bundle,
    )

    async def account() -> str:
        try:
            status = await sender.account_status()
        except AdapterError as exc:
            if exc.status == 401:
                raise CheckFailed(
                    f"account refused the credentials ({exc.message})",
                    "check twilio.account_sid and twilio.auth_token",
                ) from None
            if exc.status == 404:
                raise CheckFailed(f"no account {config.account_sid}", "check twilio.account_sid") from None
            raise
        if status != "active":
            raise CheckFailed(
                f"account {config.account_sid} is {status}", "reactivate the account in the Twilio console"
            )
        return f"account {config.account_sid} is active"

    async def sender_number() -> str:
        if config.messaging_service_sid:
            return f"messages go through messaging service {config.messaging_service_sid} (its numbers not checked)"
        if not await sender.owns_number(config.from_number):
            raise CheckFailed(
                f"{config.from_number} is not a phone number of account {config.account_sid}",
                "set twilio.from_number to one of the account's SMS-capable numbers (Console > Phone Numbers), "
                "or set twilio.messaging_service_sid",
            )
        return f"{config.from_number} belongs to the account"

    try:
        first = await timed("twilio account", account(), timeout_s)
        if not first.ok:
            return [first]
        return [first, await timed("twilio from_number", sender_number(), timeout_s)]
    finally:
        await sender.aclose()


# --- Teams -------------------------------------------------------------------------------------------------


def teams_url_shape(url: str) -> str:
    """What the Workflows trigger URL looks like (never the URL itself: its ``sig`` is the credential)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    fix = (
        "copy the URL of the workflow's trigger 'When a Teams webhook request is received' "
        "(…/workflows/{id}/triggers/manual/paths/invoke?…&sig=…) into teams.workflow_url"
    )
    if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(host)):
        raise CheckFailed(f"scheme {parts.scheme or 'missing'!r}: the trigger URL must be https", fix)
    if not WORKFLOW_PATH.search(parts.path):
        raise CheckFailed(f"path on {host} is not a workflow trigger's …/triggers/…/paths/invoke", fix)
    if not parse_qs(parts.query).get("sig"):
        raise CheckFailed(f"the URL on {host} has no sig= (the trigger's signature)", fix)
    known = host.endswith(WORKFLOW_HOSTS)
    where = host if known else f"{host} (not a Logic Apps / Power Automate host: a gateway or a test double?)"
    return f"a workflow trigger URL (…/triggers/…/paths/invoke, sig=) on {parts.scheme}://{where}"


async def teams(settings: Settings, playbooks: Sequence[LoadedPlaybook], timeout_s: float) -> list[Check]:
    url = settings.teams.workflow_url.get_secret_value()
    if not url:
        users = uses(playbooks, "verification.manager")
        if users:
            return [
                Check(
                    "teams workflow url",
                    False,
                    f"not configured, but {', '.join(users)} use verification.manager",
                    "set teams.workflow_url to the Workflows trigger URL of the approvers' channel",
                )
            ]
        return [Check("teams workflow url", True, "not configured (no playbook uses verification.manager)")]

    async def shape() -> str:
        return teams_url_shape(url)

    first = await timed("teams workflow url", shape(), timeout_s)
    if not first.ok:
        return [first]
    return [first, await timed("teams reachability", _reach(url, settings, timeout_s), timeout_s)]


async def _reach(url: str, settings: Settings, timeout_s: float) -> str:
    """A HEAD without the query string: without its ``sig`` the trigger cannot run, so no flow starts and no
    card is posted; any HTTP answer proves DNS, the route, the proxy and TLS."""
    parts = urlsplit(url)
    bare = f"{parts.scheme}://{parts.netloc}{parts.path}"
    http = HttpClient(
        "teams", min(settings.adapters.http_timeout_s, timeout_s), ca_bundle=settings.adapters.ca_bundle
    )
    try:
        resp = await http.send_once("HEAD", bare, what="HEAD Teams workflow host")
    finally:
        await http.aclose()
    return (
        f"{parts.hostname} answered HTTP {resp.status} to a HEAD without the signature (no flow run, no card)"
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- LLM ---------------------------------------------------------------------------------------------------


async def llm(settings: Settings, timeout_s: float) -> list[Check]:
    config = settings.llm
    if config.effective_mode == "offline":
        return [Check("llm", True, "offline classifier shipped with the project (no LLM endpoint used)")]
    return [await timed("llm model", _model(settings, timeout_s), timeout_s)]


async def _model(settings: Settings, timeout_s: float) -> str:
    import openai

    from ticketpilot.adapters.outbound import ssl_context

    config = settings.llm
    ca = settings.adapters.ca_bundle
    client = openai.AsyncOpenAI(
        base_url=config.base_url,
        api_key=config.api_key.get_secret_value(),
        max_retries=0,
        timeout=min(config.timeout_s, timeout_s),
        http_client=openai.DefaultAsyncHttpxClient(verify=ssl_context(ca)) if ca else None,
    )
    not_found = CheckFailed(
        f"model {config.model!r} not found at {config.base_url}",
        "set llm.model to a model (Azure: a deployment) that the endpoint serves",
    )
    try:
        try:
            model = await client.models.retrieve(config.model)
        except openai.NotFoundError:
            # Some OpenAI-compatible servers list models but have no per-model route.
            try:
                listed = {m.id async for m in client.models.list()}
            except openai.APIStatusError:
                raise not_found from None
            if config.model not in listed:
                raise not_found from None
            return f"{config.model} is listed at {config.base_url}"
    except openai.AuthenticationError:
        raise CheckFailed(f"{config.base_url} refused the API key (HTTP 401)", "check llm.api_key") from None
    except openai.PermissionDeniedError:
        raise CheckFailed(
            f"{config.base_url} denied access to {config.model!r} (HTTP 403)",
            "check the key's project and model access",
        ) from None
    except openai.APIConnectionError as exc:
        raise CheckFailed(
            f"cannot reach {config.base_url} ({type(exc).__name__})",
            "check llm.base_url, DNS, the egress firewall and HTTPS_PROXY/NO_PROXY",
        ) from None
    except openai.APIStatusError as exc:
        raise CheckFailed(f"{config.base_url} answered HTTP {exc.status_code} for the model") from None
    finally:
        await client.close()
    return f"{model.id} available at {config.base_url}"
