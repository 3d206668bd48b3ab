"""The typed key under which handlers find the running service's parts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from ticketpilot.service import Services

SERVICES: web.AppKey[Services] = web.AppKey("services")
