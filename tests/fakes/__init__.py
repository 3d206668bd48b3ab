"""Loopback fakes of the vendors TicketPilot talks to, reusable by any test (unit or end-to-end).

Each fake is a class with ``async start() -> base_url``, ``async stop()``, ``requests`` (what it received,
credentials removed), ``spec_errors`` (requests that broke the vendor's spec in ``../shared/specs``) and
knobs to script failures (``fail_next``). See ``server.py`` for the common part.
"""
