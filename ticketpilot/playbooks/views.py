"""JSON-ready views of playbooks for the API and the dashboard (no secrets exist in a playbook)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ticketpilot.playbooks.loader import LoadedPlaybook
from ticketpilot.playbooks.model import Playbook
from ticketpilot.playbooks.store import PlaybookState, StoredVersion
from ticketpilot.playbooks.validate import Problem


def version_view(version: StoredVersion, active_hash: str | None) -> dict[str, Any]:
    return {
        "version": version.version,
        "content_hash": version.content_hash,
        "source": version.source,
        "created_at": version.created_at.isoformat(),
        "active": version.content_hash == active_hash,
    }


def playbook_summary(
    playbook_id: str,
    versions: Sequence[StoredVersion],
    state: PlaybookState | None,
    active: LoadedPlaybook | None,
    errors: Sequence[Problem],
) -> dict[str, Any]:
    """One playbook: its active version and switches, every stored version, and its current errors.

    ``enabled`` is whether the gate may use it at all (operator switch, the definition's own ``enabled``,
    and its file still present); ``operator_enabled`` is the switch the enable/disable endpoints set.
    """
    active_hash = state.active_hash if state else None
    return {
        "id": playbook_id,
        "name": active.playbook.name if active else None,
        "active_version": active.version if active else None,
        "active_hash": active_hash,
        "source": active.source if active else None,
        "mode": active.mode if active else None,
        "enabled": active.enabled if active else False,
        "operator_enabled": state.enabled if state else True,
        "kill_switch": state.kill_switch if state else False,
        "file": state.file_name if state else None,
        "file_present": state.file_present if state and state.file_name else None,
        "triggers": list(active.playbook.triggers.sub_categories) if active else [],
        "versions": [version_view(v, active_hash) for v in versions],
        "errors": [p.as_dict() for p in errors],
    }


def playbook_detail(
    summary: dict[str, Any], chosen: StoredVersion, yaml_text: str, playbook: Playbook
) -> dict[str, Any]:
    """``summary`` plus one version in full: its YAML text and its parsed definition."""
    return {
        **summary,
        "selected": {
            **version_view(chosen, summary["active_hash"]),
            "yaml": yaml_text,
            "definition": playbook.model_dump(mode="json"),
        },
    }
