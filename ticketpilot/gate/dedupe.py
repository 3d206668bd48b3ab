"""The Redis fast path of webhook de-duplication. PostgreSQL's unique constraint is the guarantee.

Per delivery the key ``<prefix>webhook:<source>:<event>:<delivery_id>`` goes through two states:

1. ``SET key pending NX GET EX ttl`` before the inbox INSERT: one command that claims a new key or
   returns the state of a known one. A key that says ``done`` is a known duplicate, answered without
   touching the database.
2. ``SET key done EX ttl`` once the inbox row is committed (in the background: the answer does not
   wait for it).

A key left ``pending`` (a concurrent delivery in flight, or a crash between the two steps) only sends
the delivery on to the database, whose ``ON CONFLICT DO NOTHING`` decides. So Redis can never make a
delivery be lost, only save a round trip to PostgreSQL. Without Redis, or with Redis failing, every
delivery goes to the database: after an error Redis is skipped for ``retry_after_s`` and the outage is
logged once.

Concurrent requests share Redis round trips: the keys queued while one pipeline is in flight go out
together in the next one (the same group-commit idea as the inbox writer).

Keys are namespaced per deployment (:func:`deployment_key_prefix`): another TicketPilot on the same Redis
database, with its own PostgreSQL database, must not answer "duplicate" for a delivery it never recorded
(HaloPSA ids repeat across instances, and a body-hash id repeats for the same body).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
import structlog

log = structlog.get_logger(__name__)

_PENDING = b"pending"
_DONE = b"done"
_MAX_PIPELINE = 512


class RedisDedupe:
    """Fast-path duplicate detection; ``redis`` may be None (disabled)."""

    def __init__(
        self,
        redis: Any | None,
        *,
        ttl_s: int,
        retry_after_s: float = 30.0,
        prefix: str = "tp:webhook:",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis
        self._ttl_s = ttl_s
        self._retry_after_s = retry_after_s
        self._prefix = prefix
        self._clock = clock
        self._down_until: float | None = None
        self._claims: deque[tuple[str, asyncio.Future[bool]]] = deque()
        self._marks: deque[str] = deque()
        self._kick = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    @property
    def available(self) -> bool:
        """Redis is configured and not in its post-error pause."""
        if self._redis is None:
            return False
        return self._down_until is None or self._clock() >= self._down_until

    def key(self, source: str, event: str, delivery_id: str) -> str:
        return f"{self._prefix}{source}:{event}:{delivery_id}"

    async def known_duplicates(self, keys: Sequence[str]) -> list[bool]:
        """Per key, True only when Redis knows the delivery was already recorded; False: "ask the database"."""
        if not keys or not self.available:
            return [False] * len(keys)
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in keys]
        self._claims.extend(zip(keys, futures, strict=True))
        self._wake()
        return list(await asyncio.gather(*futures))

    def mark_recorded(self, keys: Sequence[str]) -> None:
        """The deliveries behind ``keys`` are committed in the inbox: later copies are duplicates.

        Queued and written in the background; losing a mark only costs a database round trip later.
        """
        if keys and self.available:
            self._marks.extend(keys)
            self._wake()

    async def flush(self) -> None:
        """Wait until every queued claim and mark has been sent (tests, shutdown)."""
        while self._claims or self._marks or not self._idle.is_set():
            await self._idle.wait()
            await asyncio.sleep(0)

    async def close(self) -> None:
        """Stop the background pipeline task (pending claims are answered "ask the database")."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        while self._claims:
            _, future = self._claims.popleft()
            if not future.done():
                future.set_result(False)

    def _wake(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="redis-dedupe")
        self._idle.clear()
        self._kick.set()

    async def _run(self) -> None:
        while True:
            if not self._claims and not self._marks:
                self._idle.set()
                self._kick.clear()
                await self._kick.wait()
                continue
            claims = [self._claims.popleft() for _ in range(min(len(self._claims), _MAX_PIPELINE))]
            marks = [self._marks.popleft() for _ in range(min(len(self._marks), _MAX_PIPELINE))]
            states = await self._pipeline([k for k, _ in claims], marks)
            for (_, future), state in zip(claims, states, strict=True):
                if not future.done():
                    future.set_result(state in (_DONE, _DONE.decode()))  # str with decode_responses=True

    async def _pipeline(self, claims: list[str], marks: list[str]) -> list[Any]:
        """One round trip: claim ``claims`` (their previous states) and mark ``marks`` done."""
        if not self.available:
            return [None] * len(claims)
        assert self._redis is not None
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in claims:
                    pipe.set(key, _PENDING, nx=True, get=True, ex=self._ttl_s)
                for key in marks:
                    pipe.set(key, _DONE, ex=self._ttl_s)
                results = await pipe.execute()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._down(exc)
            return [None] * len(claims)
        self._up()
        return list(results[: len(claims)])

    def _down(self, exc: BaseException) -> None:
        if self._down_until is None:
            log.warning(
                "redis_dedupe_unavailable",
                error=f"{type(exc).__name__}: {exc}",
                detail="webhook de-duplication falls back to PostgreSQL",
            )
        self._down_until = self._clock() + self._retry_after_s

    def _up(self) -> None:
        if self._down_until is not None:
            log.info("redis_dedupe_restored")
            self._down_until = None


async def deployment_key_prefix(pool: asyncpg.Pool, configured: str = "") -> str:
    """``[redis] key_prefix`` when set; else ``tp:<12 hex digits>:`` from the identity of the database this
    deployment records its inbox in: PostgreSQL's system identifier (one per cluster, new with every
    ``initdb`` or restore into another cluster) and the database's oid and name. Every replica on that
    database derives the same prefix, so they share the fast path; another deployment derives another."""
    if configured:
        return configured
    async with pool.acquire() as conn:
        try:
            cluster = await conn.fetchval("SELECT system_identifier::text FROM pg_control_system()")
        except asyncpg.PostgresError:  # not allowed on some managed services: the server's address instead
            cluster = None
        row = await conn.fetchrow(
            "SELECT d.oid::text AS oid, d.datname AS name,"
            " coalesce(host(inet_server_addr()), '') || ':' || coalesce(inet_server_port(), 0) AS server"
            " FROM pg_database d WHERE d.datname = current_database()"
        )
    identity = f"{cluster or row['server']}:{row['oid']}:{row['name']}"
    return f"tp:{hashlib.sha256(identity.encode()).hexdigest()[:12]}:"
