"""Typed configuration: ``config.toml`` (or ``--config FILE``) overridden by ``TICKETPILOT_<SECTION>__<KEY>``.

Read once at start, validated, frozen. Every default lives here. Secrets are ``SecretStr`` so they never
print. ``load_settings`` turns every problem into one :class:`ConfigError` naming each key.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

DEFAULT_CONFIG_PATH = Path("config.toml")

DEFAULT_TAXONOMY: tuple[str, ...] = (
    "PASSWORD_RESET",
    "ACCOUNT_LOCKOUT",
    "MFA_RESET",
    "ACCESS_REQUEST",
    "SOFTWARE_ISSUE",
    "SOFTWARE_INSTALL",
    "HARDWARE_ISSUE",
    "NETWORK_ISSUE",
    "EMAIL_ISSUE",
    "PRINTER_ISSUE",
    "SECURITY_INCIDENT",
    "ONBOARDING",
    "OFFBOARDING",
    "OUTAGE",
    "BILLING_OR_ADMIN",
    "OTHER",
)


class ConfigError(Exception):
    """One or more configuration values are missing or invalid.

    ``problems`` holds every ``(key, problem)`` pair, in order; ``key`` and ``problem`` are the first one.
    ``str()`` is the message for the operator: one ``key: problem`` line per key.
    """

    def __init__(self, key: str, problem: str, *more: tuple[str, str]) -> None:
        self.problems: tuple[tuple[str, str], ...] = ((key, problem), *more)
        super().__init__("\n".join(f"{k}: {p}" for k, p in self.problems))
        self.key = key
        self.problem = problem

    @classmethod
    def of(cls, problems: Sequence[tuple[str, str]]) -> ConfigError:
        """One error for several ``(key, problem)`` pairs (at least one)."""
        (key, problem), *more = problems
        return cls(key, problem, *more)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.problems)

    def __repr__(self) -> str:
        if len(self.problems) == 1:
            return f"ConfigError(key={self.key!r}, problem={self.problem!r})"
        return f"ConfigError(problems={self.problems!r})"


def _finite_positive(value: float) -> float:
    if math.isnan(value) or math.isinf(value) or value <= 0:
        raise ValueError("must be a positive, finite number")
    return value


PositiveSeconds = Annotated[float, AfterValidator(_finite_positive)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpConfig(Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    admin_token: SecretStr = SecretStr("")
    dashboard_password: SecretStr = SecretStr("")
    public_url: str = "http://127.0.0.1:8080"
    max_body_bytes: int = Field(1_048_576, gt=0)
    session_ttl_s: PositiveSeconds = 8 * 3600
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or networks (``10.0.0.5``, ``10.0.0.0/8``, ``::1``) of the reverse proxies in front: only
    a connection from one of them has its ``X-Forwarded-For`` believed (the client is the rightmost hop that
    is not a trusted proxy). Empty: the peer address is the client, whatever the header says."""
    header_timeout_s: PositiveSeconds = 10.0
    """A request's line and headers must arrive within this time of its first byte (slow-header clients)."""
    keepalive_timeout_s: PositiveSeconds = 15.0
    """An idle connection (nothing received since the last answer, or since it opened) is closed after this."""
    max_connections: int = Field(1000, ge=1)
    """Open client connections at most; one more is answered 503 and closed at once."""

    @field_validator("public_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for entry in v:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(f"{entry[:60]!r} is not an IP address or network (CIDR)") from None
        return tuple(entry.strip() for entry in v)

    @property
    def trusted_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in self.trusted_proxies)


class DatabaseConfig(Section):
    url: SecretStr = SecretStr("")
    """Empty: start the embedded PostgreSQL with its data under ``embedded_dir``."""
    embedded_dir: str = "var/pg"
    pool_min: int = Field(2, ge=1)
    pool_max: int = Field(10, ge=1)
    command_timeout_s: PositiveSeconds = 30.0

    @model_validator(mode="after")
    def _pool(self) -> DatabaseConfig:
        if self.pool_max < self.pool_min:
            raise ValueError("pool_max must be >= pool_min")
        return self


class RedisConfig(Section):
    url: str = ""
    """Empty: no Redis; webhook deduplication relies on PostgreSQL alone (still correct, slower)."""
    dedupe_ttl_s: int = Field(24 * 3600, gt=0)
    timeout_s: PositiveSeconds = 0.5
    key_prefix: str = Field("", max_length=100, pattern=r"^[!-~]*$")
    """Namespace of this deployment's keys (``<key_prefix>webhook:<source>:<event>:<delivery id>``), so
    deployments sharing one Redis database never see each other's deliveries as duplicates. Empty:
    ``tp:<12 hex digits>:`` derived from the database identity (PostgreSQL's system identifier and the
    database's oid), the same for every replica on that database."""


class AdaptersConfig(Section):
    mode: Literal["sandbox", "live"] = "sandbox"
    http_timeout_s: PositiveSeconds = 15.0
    ca_bundle: str = ""
    """A PEM file of the CAs every vendor client trusts instead of the defaults (a TLS-inspecting egress
    proxy, a private gateway). Empty: each client's default trust. ``HTTPS_PROXY``/``NO_PROXY`` are honoured
    either way (see :mod:`ticketpilot.adapters.outbound`)."""

    @field_validator("ca_bundle")
    @classmethod
    def _ca_bundle(cls, v: str) -> str:
        if not v:
            return v
        import ssl

        try:
            ssl.create_default_context(cafile=v)
        except FileNotFoundError:
            raise ValueError(f"file not found: {v}") from None
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"not a PEM file of CA certificates ({type(exc).__name__}): {v}") from None
        return v


class LlmConfig(Section):
    base_url: str = "https://api.openai.com/v1"
    api_key: SecretStr = SecretStr("")
    """Empty: the offline classifier shipped with the project is used (no network)."""
    model: str = "gpt-4o-mini"
    timeout_s: PositiveSeconds = 20.0
    max_retries: int = Field(2, ge=0, le=10)
    taxonomy: tuple[str, ...] = DEFAULT_TAXONOMY
    mode: Literal["llm", "offline", "both"] | None = None
    """Which classifier decides: ``llm``, ``offline`` (shipped, no network), or ``both`` (a second opinion: a
    ticket is automated only when both map it to the same playbook and neither flags a risk). Unset: ``both``
    when ``api_key`` is set, else ``offline``. ``llm`` and ``both`` need ``api_key``."""

    @property
    def effective_mode(self) -> Literal["llm", "offline", "both"]:
        if self.mode is not None:
            return self.mode
        return "both" if self.api_key.get_secret_value() else "offline"

    @model_validator(mode="after")
    def _mode_needs_a_key(self) -> LlmConfig:
        if self.mode in ("llm", "both") and not self.api_key.get_secret_value():
            raise ValueError(f'mode = "{self.mode}" needs llm.api_key (or set mode = "offline")')
        return self


class HalopsaConfig(Section):
    base_url: str = ""
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    tenant: str = ""
    scope: str = "all"
    webhook_username: str = ""
    webhook_password: SecretStr = SecretStr("")
    webhook_path_secret: SecretStr = SecretStr("")
    note_outcome_id: int = 7
    status_closed_ids: tuple[int, ...] = (9,)
    status_resolved_id: int = 8
    status_escalated_id: int = Field(0, ge=0)
    """The status of an escalated ticket (executions ending ESCALATED or FAILED); 0: leave it alone (the
    ticket simply returns to the queue). A playbook's ``escalation.status_id`` overrides it."""
    escalation_team: str = ""
    """The HaloPSA team (queue name) an escalated ticket is assigned to; empty: leave the team alone."""
    escalation_agent_id: int = Field(0, ge=0)
    """The agent an escalated ticket is assigned to; 0: leave the agent alone."""
    escalation_priority_id: int = Field(0, ge=0)
    """The priority (``priorityid`` of ``GET /api/Priority``) of an escalated ticket; 0: leave it alone."""
    manual_team: str = ""
    manual_agent_id: int = Field(0, ge=0)
    manual_status_id: int = Field(0, ge=0)
    manual_priority_id: int = Field(0, ge=0)
    """Where the gate puts a ticket it leaves manual (team, agent, status, priority); empty/0: leave it."""
    customfield_automation_status: int = Field(0, ge=0)
    customfield_playbook_id: int = Field(0, ge=0)
    customfield_automation_confidence: int = Field(0, ge=0)
    """Custom field ids are per instance; 0: no id is sent."""
    customfield_automation_status_name: str = ""
    customfield_playbook_id_name: str = ""
    customfield_automation_confidence_name: str = ""
    """The instance's custom field names (e.g. ``CFautomationStatus``), sent beside the id when both are set.
    With neither an id nor a name, the field is sent by TicketPilot's own name (``automation_status``...)."""


class EntraConfig(Section):
    tenant_id: str = ""
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    certificate_path: str = ""
    certificate_thumbprint: str = ""
    authority_url: str = "https://login.microsoftonline.com"
    graph_url: str = "https://graph.microsoft.com/v1.0"
    graph_scope: str = ""
    """The scope of Graph tokens (app-only: ``<resource>/.default``). Empty: the Graph resource of the cloud
    that ``graph_url`` or else ``authority_url`` names (global, US Gov, US Gov DoD, China), global when neither
    is Microsoft's. Set it when ``graph_url`` goes through a gateway or egress proxy that rewrites the URL."""
    cache_ttl_s: PositiveSeconds = 300.0
    service_mailbox: str = ""
    """``delivery.email``: the mailbox (UPN or address) credentials are e-mailed from with Graph ``sendMail``
    (application permission ``Mail.Send``; limit it to this mailbox with an Exchange application access
    policy). Empty: e-mail delivery is off and a ``delivery.email`` step fails (→ its ``on_failure``)."""

    @field_validator("service_mailbox")
    @classmethod
    def _service_mailbox(cls, v: str) -> str:
        v = v.strip()
        if v and (v.count("@") != 1 or v.startswith("@") or v.endswith("@") or any(c.isspace() for c in v)):
            raise ValueError("must be the service mailbox's address, e.g. helpdesk@contoso.com")
        return v

    @field_validator("graph_scope")
    @classmethod
    def _graph_scope(cls, v: str) -> str:
        v = v.strip()
        if v and not v.endswith("/.default"):
            raise ValueError("must end with /.default (app-only tokens are asked for a resource's .default)")
        return v


class MfaConfig(Section):
    enabled: bool = False
    """The Azure MFA connector is undocumented: off unless explicitly enabled and configured."""
    connector_url: str = "https://adnotifications.windowsazure.com/StrongAuthenticationService.svc/Connector"
    token_url: str = ""
    client_secret: SecretStr = SecretStr("")
    timeout_s: PositiveSeconds = 90.0


class TwilioConfig(Section):
    account_sid: str = ""
    auth_token: SecretStr = SecretStr("")
    from_number: str = ""
    messaging_service_sid: str = ""
    base_url: str = "https://api.twilio.com"
    delivery_report_wait_s: PositiveSeconds = 120.0
    """``delivery.sms``: how long an attempt waits for Twilio's final delivery report (``StatusCallback``)
    after Twilio accepted the message. ``failed``/``undelivered`` retries the step; no final report in time
    (many carriers never send one) counts as delivered. Capped just below the step's ``timeout``, so a
    wait longer than the playbook's timeout is cut to it."""


class TeamsConfig(Section):
    workflow_url: SecretStr = SecretStr("")
    approval_signing_key: SecretStr = SecretStr("")
    """HMAC key for approve/deny links; empty: a random key per process (links die with a restart)."""
    approval_ttl_s: PositiveSeconds = 3600.0
    sms_fallback_after_s: PositiveSeconds = 300.0


class PlaybooksConfig(Section):
    dir: str = "playbooks"
    watch: bool = True
    watch_debounce_ms: int = Field(200, ge=0)


class PolicyConfig(Section):
    """Gate blockers (DESIGN §3)."""

    kill_switch: bool = False
    excluded_users: tuple[str, ...] = ()
    excluded_groups: tuple[str, ...] = ()
    cooldown_hours: float = Field(24.0, ge=0)
    rate_limit_per_hour: int = Field(20, ge=0)
    """Global automated resets per rolling hour; beyond it the circuit breaker opens."""
    breaker_open_s: PositiveSeconds = 900.0
    security_info_window_days: float = Field(7.0, gt=0, le=30, allow_inf_nan=False)
    """Security info (MFA methods) registered, changed or deleted this recently blocks automation
    (``recent_security_info_change``): a credential never goes to a phone registered inside the window.
    At most 30: Entra keeps audit logs 30 days."""
    require_identity_signals: bool = True
    """Where the tenant cannot give an identity signal (Identity Protection risk, the audit log: no licence or
    no permission), block automation (``identity_signals_unavailable``); ``false``: carry on without it."""
    minutes_saved_per_ticket: dict[str, float] = Field(default_factory=lambda: {"password_reset": 15.0})


class GateConfig(Section):
    """The decision gate (DESIGN §3)."""

    max_decision_delay_s: PositiveSeconds = 900.0
    """How long a ticket's decision may wait for a throttled or failing vendor (HaloPSA ticket read, Graph
    enrichment, the LLM), counted from the first transient failure. Until then the inbox row is retried
    durably (``Retry-After`` honoured) and nothing is written to HaloPSA; after it the ticket stays manual with
    ``halopsa_unavailable``, ``directory_unavailable`` or ``llm_unavailable``."""


class EngineConfig(Section):
    owner_id: str = ""
    """This process's lease owner name; empty: ``<hostname>:<http port>``, stable across restarts so a
    restarted service resumes its own executions at once instead of waiting for their leases to expire."""
    lease_s: PositiveSeconds = 30.0
    lease_renew_every_s: PositiveSeconds = 10.0
    commit_batch_max: int = Field(256, gt=0)
    commit_linger_ms: float = Field(2.0, ge=0)
    default_step_timeout_s: PositiveSeconds = 60.0
    outbox_poll_s: PositiveSeconds = 2.0
    inbox_poll_s: PositiveSeconds = 2.0
    inbox_lease_s: PositiveSeconds = 15.0
    """How long a claimed webhook inbox row is held; renewed (a heartbeat every third of it) while its
    decision runs, so a killed process's rows are taken over by another within this time."""
    shutdown_grace_s: PositiveSeconds = 20.0
    """On SIGTERM: how long vendor calls and decisions in flight may take to finish before what is left is
    handed over (leases and inbox rows released at once). Keep it below the orchestrator's kill timeout
    (Kubernetes: ``terminationGracePeriodSeconds``, 30 s by default)."""


class SandboxConfig(Section):
    """Delays of the sandbox twins (seconds), short so ``make run`` shows every path quickly."""

    mfa_approve_after_s: PositiveSeconds = 2.0
    mfa_timeout_s: PositiveSeconds = 10.0
    manager_approve_after_s: PositiveSeconds = 3.0
    manager_sms_fallback_after_s: PositiveSeconds = 5.0
    manager_timeout_s: PositiveSeconds = 15.0
    sms_report_after_s: PositiveSeconds = 1.0
    """The sandbox Twilio reports each message's final status this long after accepting it, through the same
    code path as the ``/webhooks/twilio/status`` webhook: ``delivered``, or ``undelivered`` for an
    ``sms-undelivered…`` recipient."""
    sms_report_wait_s: PositiveSeconds = 10.0
    """Sandbox counterpart of ``twilio.delivery_report_wait_s`` (a report lost in a restart is waited for
    this long, not two minutes)."""
    ledger_path: str = ""
    """Also append every sandbox ledger entry (what the twins did; never a secret) to this file as JSON
    lines, flushed per entry, so it survives a crash of the process. Empty: memory only."""


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "json", "console"] = "auto"


class Settings(BaseSettings):
    """The whole configuration. Build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="TICKETPILOT_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    http: HttpConfig = HttpConfig()
    database: DatabaseConfig = DatabaseConfig()
    redis: RedisConfig = RedisConfig()
    adapters: AdaptersConfig = AdaptersConfig()
    llm: LlmConfig = LlmConfig()
    halopsa: HalopsaConfig = HalopsaConfig()
    entra: EntraConfig = EntraConfig()
    mfa: MfaConfig = MfaConfig()
    twilio: TwilioConfig = TwilioConfig()
    teams: TeamsConfig = TeamsConfig()
    playbooks: PlaybooksConfig = PlaybooksConfig()
    policy: PolicyConfig = PolicyConfig()
    gate: GateConfig = GateConfig()
    engine: EngineConfig = EngineConfig()
    sandbox: SandboxConfig = SandboxConfig()
    logging: LoggingConfig = LoggingConfig()

    _toml_path: ClassVar[Path | None] = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls._toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls._toml_path))
        return tuple(sources)

    @model_validator(mode="after")
    def _live_needs_credentials(self) -> Settings:
        problems = live_mode_problems(self)
        if problems:
            # Not a ValueError: pydantic lets it through as is, with every missing key in it.
            raise ConfigError.of(problems)
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem_at_once(cls, data: Any, handler: ModelWrapValidatorHandler[Settings]) -> Settings:
        """Invalid values and missing live-mode credentials in one report: when some values are invalid, the
        credential check still runs on the rest of the configuration (without the invalid keys)."""
        try:
            return handler(data)
        except ValidationError as exc:
            problems = _validation_problems(exc)
            if isinstance(data, dict):
                try:
                    handler(_without(data, [err["loc"] for err in exc.errors()]))
                except ConfigError as missing:
                    named = {key for key, _ in problems}
                    problems += [(key, problem) for key, problem in missing.problems if key not in named]
                except ValidationError:
                    pass
            raise ConfigError.of(problems) from None


def _without(data: dict[str, Any], locations: list[tuple[int | str, ...]]) -> dict[str, Any]:
    """``data`` (sections of raw values) less the keys at ``locations`` (a whole section for a 1-long one)."""
    pruned = dict(data)
    for loc in locations:
        section = str(loc[0]) if loc else ""
        if len(loc) == 1 or not isinstance(pruned.get(section), dict):
            pruned.pop(section, None)
        else:
            pruned[section] = {k: v for k, v in pruned[section].items() if k != loc[1]}
    return pruned


def live_mode_problems(settings: Settings) -> list[tuple[str, str]]:
    """Every credential ``adapters.mode = "live"`` needs and ``settings`` lacks, as (key, problem) pairs."""
    if settings.adapters.mode != "live":
        return []
    required: list[tuple[str, object]] = [
        ("halopsa.base_url", settings.halopsa.base_url),
        ("halopsa.client_id", settings.halopsa.client_id),
        ("halopsa.client_secret", settings.halopsa.client_secret.get_secret_value()),
        ("entra.tenant_id", settings.entra.tenant_id),
        ("entra.client_id", settings.entra.client_id),
        (
            "entra.client_secret",
            settings.entra.client_secret.get_secret_value() or settings.entra.certificate_path,
        ),
        ("twilio.account_sid", settings.twilio.account_sid),
        ("twilio.auth_token", settings.twilio.auth_token.get_secret_value()),
        ("twilio.from_number", settings.twilio.from_number or settings.twilio.messaging_service_sid),
    ]
    problems = [(key, 'required when adapters.mode = "live"') for key, value in required if not value]
    if not (
        settings.halopsa.webhook_password.get_secret_value()
        or settings.halopsa.webhook_path_secret.get_secret_value()
    ):
        problems.append(
            (
                "halopsa.webhook_password",
                "a webhook credential (webhook_password or webhook_path_secret) is required when "
                'adapters.mode = "live"',
            )
        )
    if not settings.http.admin_token.get_secret_value():
        problems.append(("http.admin_token", 'required when adapters.mode = "live"'))
    return problems


def _config_error(exc: ValidationError) -> ConfigError:
    """Every invalid key of ``exc`` in one error."""
    return ConfigError.of(_validation_problems(exc))


def _validation_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """Every invalid key of ``exc``, one (key, problem) pair per key (several problems of a key joined)."""
    by_key: dict[str, list[str]] = {}
    for err in exc.errors():
        msg = str(err.get("msg", "invalid value"))
        loc = ".".join(str(p) for p in err.get("loc", ()) if not isinstance(p, int)) or "config"
        if err.get("type") == "extra_forbidden":
            msg = "unknown key"
        elif msg.startswith("Value error, "):
            msg = msg.removeprefix("Value error, ")
        problems = by_key.setdefault(loc, [])
        if msg not in problems:
            problems.append(msg)
    return [(key, "; ".join(problems)) for key, problems in by_key.items()]


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read ``path`` (default ``config.toml`` when it exists), apply env overrides, validate, freeze.

    Raises one :class:`ConfigError` naming every invalid or missing key (one line per key).
    """
    toml_path: Path | None
    if path is None:
        env_path = os.environ.get("TICKETPILOT_CONFIG")
        toml_path = Path(env_path) if env_path else DEFAULT_CONFIG_PATH
        if not toml_path.exists():
            toml_path = None
    else:
        toml_path = Path(path)
        if not toml_path.exists():
            raise ConfigError("--config", f"file not found: {toml_path}")
    if toml_path is not None:
        import tomllib

        try:
            tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(toml_path), f"not valid TOML: {exc}") from None
    Settings._toml_path = toml_path
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise _config_error(exc) from None
    except SettingsError as exc:  # an environment value pydantic-settings could not even decode
        raise ConfigError.of(_env_decode_problems(os.environ) or [(_settings_field(exc), str(exc))]) from None
    finally:
        Settings._toml_path = None


ENV_PREFIX = "TICKETPILOT_"
ENV_DELIMITER = "__"


def _env_decode_problems(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """Every ``TICKETPILOT_<SECTION>__<KEY>`` (or ``TICKETPILOT_<SECTION>``) whose value must be JSON (a list,
    a table) and is not, as ``(section.key, problem)`` pairs naming the variable."""
    problems: list[tuple[str, str]] = []
    for name in sorted(environ):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        path = name[len(ENV_PREFIX) :].lower().split(ENV_DELIMITER)
        annotation = _annotation_at(Settings, path)
        if annotation is None or not _needs_json(annotation):
            continue
        value = environ[name]
        try:
            json.loads(value)
        except ValueError as exc:
            reason = (
                f"{exc.msg} at character {exc.pos}" if isinstance(exc, json.JSONDecodeError) else str(exc)
            )
            problems.append(
                (
                    ".".join(path),
                    f"environment variable {name} must be JSON ({_json_example(annotation)}); {reason}",
                )
            )
    return problems


def _annotation_at(model: type[BaseModel], path: Sequence[str]) -> Any:
    """The type annotation of the field at ``path`` under ``model`` (None: no such field)."""
    annotation: Any = model
    for part in path:
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        field = annotation.model_fields.get(part)
        if field is None:
            return None
        annotation = field.annotation
    return annotation


def _needs_json(annotation: Any) -> bool:
    """pydantic-settings decodes these from JSON and fails on anything else: containers and models (and
    unions of nothing but those). A union with a plain type (``str | list[str]``) accepts non-JSON."""
    if get_origin(annotation) is Annotated:
        return _needs_json(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return bool(args) and all(_needs_json(a) for a in args)
    origin = get_origin(annotation) or annotation
    if isinstance(origin, type) and issubclass(origin, BaseModel):
        return True
    return origin in (list, tuple, set, frozenset, dict)


def _json_example(annotation: Any) -> str:
    origin = get_origin(annotation) or annotation
    if origin in (list, tuple, set, frozenset):
        return 'a list like ["a", "b"]'
    return 'an object like {"key": "value"}'


def _settings_field(exc: SettingsError) -> str:
    found = re.search(r'field "([^"]+)"', str(exc))
    return found.group(1) if found else "environment"
