"""DeferredSignalSink: built before the engine, bound to its deliver_signal afterwards."""

from __future__ import annotations

import uuid

import pytest
from test_services_support import RecordingSink

from ticketpilot.services import DeferredSignalSink
from ticketpilot.services.signals import SinkNotBound


async def test_forwards_once_bound_and_refuses_before() -> None:
    sink = DeferredSignalSink()
    execution_id = uuid.uuid4()
    with pytest.raises(SinkNotBound):
        await sink(execution_id, "approve", "approval:1", {})
    engine = RecordingSink()
    sink.bind(engine)
    assert await sink(execution_id, "approve", "approval:1", {"channel": "teams"}) is True
    assert await sink(execution_id, "approve", "approval:1", {"channel": "teams"}) is False
    assert [(c.kind, c.dedupe_key) for c in engine.calls] == [("approve", "approval:1")] * 2
    assert "bound=True" in repr(sink)
