"""The running service: its parts, started in order and stopped in reverse."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import structlog
from redis.asyncio import Redis

from ticketpilot.adapters.base import AdapterSet
from ticketpilot.config import Settings
from ticketpilot.database import EmbeddedPostgres, close_pool, connect, create_pool
from ticketpilot.engine.migrate import migrate
from ticketpilot.gate.classification import Classifier
from ticketpilot.http.auth import SessionStore
from ticketpilot.playbooks.registry import PlaybookRegistry
from ticketpilot.readiness import Readiness

if TYPE_CHECKING:
    from ticketpilot.gate.service import ExecutionStarter, Gate
    from ticketpilot.services.signals import SignalSink

log = structlog.get_logger(__name__)

Closer = Callable[[], Awaitable[None]]
Drainer = Callable[[float], Awaitable[None]]


@dataclass
class Services:
    """Everything a request handler or background task may use."""

    settings: Settings
    pool: asyncpg.Pool
    registry: PlaybookRegistry
    sessions: SessionStore
    redis: Redis | None = None
    adapters: AdapterSet | None = None
    engine: Any = None
    gate: Any = None
    intake: Any = None
    extras: dict[str, Any] = field(default_factory=dict)
    readiness: Readiness = field(default_factory=Readiness)
    """What ``/readyz`` reports beyond its own database check: failing background loops, draining."""
    close_step_timeout_s: float = 10.0
    """A shutdown step that takes longer is abandoned (and named in the log): a stop never hangs."""
    _closers: list[Closer] = field(default_factory=list)
    _drainers: list[Drainer] = field(default_factory=list)

    def on_close(self, closer: Closer) -> None:
        self._closers.append(closer)

    def on_drain(self, drainer: Drainer) -> None:
        """``drainer(grace_s)`` runs at a graceful stop, before the HTTP server closes (in this order)."""
        self._drainers.append(drainer)

    async def drain(self, grace_s: float) -> None:
        """Graceful stop, first part: not ready and refusing webhooks from now on; then the drainers finish
        work in flight within one ``grace_s`` deadline and hand the rest over (leases, inbox rows)."""
        self.readiness.drain()
        deadline = time.monotonic() + grace_s
        while self._drainers:
            drainer = self._drainers.pop(0)
            try:
                await drainer(max(0.0, deadline - time.monotonic()))
            except Exception:
                log.exception("drain_step_failed")

    async def close(self) -> None:
        """Run the shutdown steps in reverse order of start, each within ``close_step_timeout_s``."""
        while self._closers:
            closer = self._closers.pop()
            step = getattr(closer, "__qualname__", None) or repr(closer)
            try:
                async with asyncio.timeout(self.close_step_timeout_s):
                    await closer()
            except TimeoutError:
                log.error("shutdown_step_timed_out", step=step, timeout_s=self.close_step_timeout_s)
            except Exception:
                log.exception("shutdown_step_failed", step=step)


@contextlib.asynccontextmanager
async def database_url(settings: Settings) -> AsyncIterator[str]:
    """The configured PostgreSQL URL, or an embedded server's (started here, stopped on exit)."""
    url = settings.database.url.get_secret_value()
    if url:
        yield url
        return
    embedded = EmbeddedPostgres(Path(settings.database.embedded_dir))
    dsn = await asyncio.to_thread(embedded.start)
    try:
        yield dsn
    finally:
        await asyncio.to_thread(embedded.stop)


async def run_migrations(dsn: str) -> list[int]:
    conn = await connect(dsn)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


async def connect_redis(url: str, socket_timeout_s: float) -> Redis | None:
    """A Redis client, or None when not configured. An unreachable Redis is logged, not fatal."""
    if not url:
        return None
    client = Redis.from_url(url, socket_timeout=socket_timeout_s, socket_connect_timeout=socket_timeout_s)
    try:
        await client.ping()
    except Exception as exc:
        log.warning("redis_unavailable", error=str(exc))
    return client


def spawn(services: Services, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
    """Run a background loop for the service's lifetime; it is cancelled (and awaited) on close."""
    task = asyncio.create_task(coro, name=name)

    async def cancel() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    services.on_close(cancel)
    return task


def engine_owner_id(settings: Settings) -> str | None:
    """A stable owner name (see ``EngineConfig.owner_id``); None (random) when the port is not fixed."""
    if settings.engine.owner_id:
        return settings.engine.owner_id
    if settings.http.port == 0:
        return None
    return f"{socket.gethostname()}:{settings.http.port}"


def build_classifier(settings: Settings) -> Classifier:
    """The classifier of ``[llm] mode`` (unset: ``both`` with an API key, else the shipped offline model)."""
    from ticketpilot.gate.offline import OfflineClassifier

    mode = settings.llm.effective_mode
    if mode == "offline":
        return OfflineClassifier()
    from ticketpilot.gate.llm import LlmClassifier

    llm = LlmClassifier(settings.llm, ca_bundle=settings.adapters.ca_bundle)
    if mode == "llm":
        return llm
    from ticketpilot.gate.combined import CombinedClassifier

    return CombinedClassifier(llm, OfflineClassifier())


async def open_services(settings: Settings, dsn: str, *, watch: bool | None = None) -> Services:
    """Migrate, open the pool and Redis, load the playbooks: the parts every command needs."""
    applied = await run_migrations(dsn)
    if applied:
        log.info("migrations_applied", versions=applied)
    pool = await create_pool(
        dsn,
        min_size=settings.database.pool_min,
        max_size=settings.database.pool_max,
        command_timeout_s=settings.database.command_timeout_s,
    )
    registry = PlaybookRegistry(
        pool,
        Path(settings.playbooks.dir),
        watch=settings.playbooks.watch if watch is None else watch,
        debounce_ms=settings.playbooks.watch_debounce_ms,
    )
    services = Services(
        settings=settings,
        pool=pool,
        registry=registry,
        sessions=SessionStore(ttl_s=settings.http.session_ttl_s),
    )
    services.on_close(partial(close_pool, pool))
    try:
        services.redis = await connect_redis(settings.redis.url, settings.redis.timeout_s)
        if services.redis is not None:
            services.on_close(services.redis.aclose)
        await registry.start()
        services.on_close(registry.stop)
    except BaseException:
        await services.close()
        raise
    return services


async def start_services(settings: Settings, dsn: str, *, owner_id: str | None = None) -> Services:
    """Every part of the running service: adapters, engine, gate, inbox and outbox workers.

    The data flow of one ticket: webhook → inbox → worker re-reads the ticket from HaloPSA → gate
    (classify, enrich, blockers, decision + outbox in one commit) → engine execution → outbox → HaloPSA.
    """
    services = await open_services(settings, dsn)
    try:
        await _start_automation(services, owner_id)
    except BaseException:
        await services.close()
        raise
    return services


def build_adapters(services: Services, sink: SignalSink) -> AdapterSet:
    """The approval desk, the SMS delivery reports and the adapters (sandbox twins or live), stored on
    ``services``."""
    from ticketpilot.services import SmsReports, build_approval_desk

    settings = services.settings
    desk = build_approval_desk(services.pool, settings, sink)
    services.extras["approvals"] = desk
    reports = SmsReports(sink)
    services.extras["sms_reports"] = reports
    adapters: AdapterSet
    if settings.adapters.mode == "sandbox":
        from ticketpilot.adapters.sandbox import SandboxLedger, SandboxStore, build_sandbox_adapters

        ledger = SandboxLedger()
        services.extras["sandbox_ledger"] = ledger
        # The sandbox's state lives in PostgreSQL: it survives a restart and replicas share it.
        store = SandboxStore(services.pool)
        adapters = build_sandbox_adapters(settings, ledger, desk, sms_reports=reports, store=store)
        services.on_close(adapters.extras["aclose"])
    else:
        from ticketpilot.adapters import live

        adapters = live.build_live_adapters(settings)
        live_adapters = adapters
        services.on_close(lambda: live.close(live_adapters))
    services.adapters = adapters
    return adapters


def build_gate(services: Services, engine: ExecutionStarter, outbox_wake: Callable[[], None] | None) -> Gate:
    """The classifier-first gate over the service's adapters, registry and policy."""
    from ticketpilot.gate.enrichment import RequesterResolver
    from ticketpilot.gate.policy import RuntimePolicy
    from ticketpilot.gate.service import Gate

    settings = services.settings
    assert services.adapters is not None
    classifier = build_classifier(settings)
    warm_up = getattr(classifier, "warm_up", None)
    if warm_up is not None:
        # Train the offline model now, off the event loop, rather than on the first ticket.
        services.extras["classifier_warm_up"] = asyncio.get_running_loop().run_in_executor(None, warm_up)
    aclose = getattr(classifier, "aclose", None)
    if aclose is not None:
        services.on_close(aclose)
    gate = Gate(
        pool=services.pool,
        classifier=classifier,
        resolver=RequesterResolver(
            services.adapters.directory,
            ttl_s=settings.entra.cache_ttl_s,
            security_info_window_days=settings.policy.security_info_window_days,
        ),
        registry=services.registry,
        policy=RuntimePolicy(settings.policy),
        engine=engine,
        taxonomy=settings.llm.taxonomy,
        outbox_wake=outbox_wake,
        classify_timeout_s=settings.llm.timeout_s * (settings.llm.max_retries + 1) + 5,
    )
    services.gate = gate
    return gate


async def open_gate(settings: Settings, dsn: str) -> Services:
    """The gate alone (for the CLI): no engine, no workers. Automated decisions cannot start anything."""
    from ticketpilot.services import DeferredSignalSink

    services = await open_services(settings, dsn, watch=False)
    try:
        build_adapters(services, DeferredSignalSink())
        build_gate(services, _NoEngine(), None)
    except BaseException:
        await services.close()
        raise
    return services


class _NoEngine:
    """The CLI's gate never starts an execution (preview and replay decide only)."""

    async def start_execution(self, *args: Any, **kwargs: Any) -> tuple[Any, bool]:
        raise RuntimeError("the command-line gate does not start executions")


async def _start_automation(services: Services, owner_id: str | None) -> None:
    from ticketpilot.adapters.sandbox.tickets import SandboxTickets
    from ticketpilot.engine import Engine
    from ticketpilot.gate.dedupe import RedisDedupe, deployment_key_prefix
    from ticketpilot.gate.inbox_worker import InboxWorker
    from ticketpilot.gate.inbox_writer import InboxWriter
    from ticketpilot.gate.intake import WebhookIntake
    from ticketpilot.gate.outbox import OutboxWorker
    from ticketpilot.gate.policy import RuntimePolicy
    from ticketpilot.services import DeferredSignalSink, build_step_services, step_deps_from_settings

    settings, pool = services.settings, services.pool
    sink = DeferredSignalSink()
    adapters = build_adapters(services, sink)
    policy = RuntimePolicy(settings.policy)  # the credential step re-reads the kill switches when it acts
    deps = step_deps_from_settings(
        settings,
        services.extras["approvals"],
        kill_switch=lambda playbook_id: policy.kill_switch_detail(pool, playbook_id),
    )
    engine = Engine(
        pool,
        build_step_services(adapters, deps),
        services.registry.get_version,
        config=settings.engine,
        owner_id=owner_id or settings.engine.owner_id or None,
        readiness=services.readiness,
    )
    sink.bind(engine.deliver_signal)
    services.engine = engine
    sandbox_actions = adapters.extras.get("actions")
    if sandbox_actions is not None:
        sandbox_actions.start()  # the sandbox manager's answers and delivery reports, from any process

    outbox = OutboxWorker(
        pool,
        adapters.tickets,
        settings.halopsa,
        poll_s=settings.engine.outbox_poll_s,
        revoker=adapters.directory,  # deletes a TAP an execution issued but never delivered
    )
    gate = build_gate(services, engine, outbox.wake)
    writer = InboxWriter(pool)
    key_prefix = settings.redis.key_prefix
    if services.redis is not None:  # this deployment's namespace on a Redis others may share
        key_prefix = await deployment_key_prefix(pool, key_prefix)
        log.info("redis_key_prefix", prefix=key_prefix)
    dedupe = RedisDedupe(services.redis, ttl_s=settings.redis.dedupe_ttl_s, prefix=f"{key_prefix}webhook:")
    services.on_close(dedupe.close)
    services.on_close(writer.stop)
    sandbox_tickets = adapters.tickets if isinstance(adapters.tickets, SandboxTickets) else None
    intake = WebhookIntake(
        writer, dedupe, sandbox_tickets=sandbox_tickets, refusing=lambda: services.readiness.draining
    )
    services.intake = intake
    worker = InboxWorker(
        pool,
        adapters.tickets,
        gate,
        engine,
        settings.halopsa,
        poll_s=settings.engine.inbox_poll_s,
        max_decision_delay_s=settings.gate.max_decision_delay_s,
        lease_s=settings.engine.inbox_lease_s,
        owner=engine.owner_id,
    )
    intake.set_listener(worker.wake)

    await engine.start()
    services.on_close(engine.stop)
    # A graceful stop, within one grace: no new step begins; decisions in flight finish (their executions
    # are recorded for the next owner); step calls in flight finish; then leases and rows are handed over.
    services.on_drain(_quiesce(engine))
    services.on_drain(worker.stop)
    services.on_drain(lambda grace_s: engine.stop(grace_s=grace_s))
    services.on_drain(outbox.stop)  # HaloPSA writes in flight
    spawn(services, outbox.run(services.readiness), "outbox-worker")
    spawn(services, worker.run(services.readiness), "inbox-worker")


def _quiesce(engine: Any) -> Drainer:
    async def quiesce(_grace_s: float) -> None:
        engine.quiesce()

    return quiesce


async def serve(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then stop every part cleanly (embedded PostgreSQL included)."""
    from ticketpilot.http.app import build_app
    from ticketpilot.http.server import start_http

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with database_url(settings) as dsn:
        services = await start_services(settings, dsn, owner_id=engine_owner_id(settings))
        try:
            # Header and keep-alive timeouts, a connection cap, rate-limited accept errors (http/server.py).
            runner, _site = await start_http(build_app(services), settings.http)
            log.info(
                "service_started",
                url=f"http://{settings.http.host}:{settings.http.port}",
                adapters=settings.adapters.mode,
            )
            try:
                await stop.wait()
                grace_s = settings.engine.shutdown_grace_s
                log.info("service_stopping", grace_s=grace_s)
                # At once: /readyz 503 and webhooks refused (the proxy retries them on another replica);
                # work in flight gets the grace; leases and inbox rows are handed over, not left to expire.
                await services.drain(grace_s)
            finally:
                await runner.cleanup()
        finally:
            await services.close()
    log.info("service_stopped")
