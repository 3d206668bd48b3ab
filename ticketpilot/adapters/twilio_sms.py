"""SMS through the official Twilio SDK with its aiohttp-based async client (:class:`SmsSender`).

The SDK has no base-URL option: ``client.api.base_url`` redirects it (sovereign regions, test fakes).
The SDK's ``region``/``edge`` rewrite *any* host, and it reads them from ``TWILIO_REGION``/``TWILIO_EDGE``;
both are forced to ``None`` so ``twilio.base_url`` alone decides where messages go (vendor-apis §7).
A send is never retried here: a 5xx may still have sent the SMS, so the engine decides. The body can hold
a credential and is never logged; numbers are masked.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

import aiohttp
import structlog

from ticketpilot.adapters.base import AdapterError, SmsReceipt
from ticketpilot.adapters.outbound import client_session
from ticketpilot.config import TwilioConfig
from ticketpilot.logging import mask_phone
from ticketpilot.metrics import EXTERNAL_ERRORS, EXTERNAL_LATENCY

log = structlog.get_logger(__name__)

ADAPTER = "twilio"
DEFAULT_BASE_URL = "https://api.twilio.com"
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_PHONE_IN_TEXT = re.compile(r"\+?\d[\d \-().]{7,}\d")
_sdk_log = logging.getLogger("ticketpilot.adapters.twilio_sms.sdk")
_sdk_log.setLevel(logging.WARNING)  # the SDK logs every request line at INFO


def _mask_numbers(text: str) -> str:
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), text)


class TwilioSmsSender:
    """The live :class:`~ticketpilot.adapters.base.SmsSender`. The SDK client is made on first use, inside
    the event loop, because its aiohttp session must be."""

    def __init__(self, config: TwilioConfig, *, http_timeout_s: float = 15.0, ca_bundle: str = "") -> None:
        self._config = config
        self._timeout_s = http_timeout_s
        self._ca_bundle = ca_bundle
        self._client: Any = None
        self._http: Any = None

    def __repr__(self) -> str:
        return (
            f"TwilioSmsSender(account_sid={self._config.account_sid!r}, base_url={self._config.base_url!r})"
        )

    def _twilio(self) -> Any:
        if self._client is None:
            from twilio.http.async_http_client import AsyncTwilioHttpClient
            from twilio.rest import Client

            self._http = AsyncTwilioHttpClient(
                pool_connections=False, timeout=self._timeout_s, logger=_sdk_log
            )
            # The SDK's own session ignores HTTPS_PROXY/NO_PROXY and has no CA option: it gets one of ours.
            self._http.session = client_session(ca_bundle=self._ca_bundle, trust_env=True)
            client = Client(
                self._config.account_sid, self._config.auth_token.get_secret_value(), http_client=self._http
            )
            client.region = None
            client.edge = None
            base_url = self._config.base_url.rstrip("/")
            if base_url != DEFAULT_BASE_URL:
                client.api.base_url = base_url
            self._client = client
        return self._client

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._client = self._http = None

    async def account_status(self) -> str:
        """``GET /Accounts/{Sid}.json``'s ``status`` (active, suspended, closed): a preflight read."""
        account = await self._read(lambda c: c.api.v2010.accounts(self._config.account_sid).fetch_async())
        return str(account.status)

    async def owns_number(self, number: str) -> bool:
        """Whether ``number`` is one of the account's ``IncomingPhoneNumbers`` (a preflight read)."""
        found = await self._read(lambda c: c.incoming_phone_numbers.list_async(phone_number=number, limit=1))
        return any(str(n.phone_number) == number for n in found)

    async def _read(self, call: Any) -> Any:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            async with asyncio.timeout(self._timeout_s):
                return await call(self._twilio())
        except TwilioRestException as exc:
            raise AdapterError(
                ADAPTER,
                f"HTTP {exc.status}, error {exc.code}: {str(exc.msg)[:200]}",
                retryable=False,
                status=exc.status,
            ) from None
        except TimeoutError:
            raise AdapterError(ADAPTER, f"no answer within {self._timeout_s:g}s", retryable=True) from None
        except aiohttp.ClientError as exc:
            raise AdapterError(ADAPTER, f"connection failed ({type(exc).__name__})", retryable=True) from None
        except TwilioException as exc:
            raise AdapterError(ADAPTER, f"SDK error ({type(exc).__name__})", retryable=False) from None

    async def send(
        self, to: str, body: str, *, idempotency_key: str, status_callback: str | None = None
    ) -> SmsReceipt:
        """Create the message; 429/5xx and transport failures are retryable, other refusals are not."""
        from twilio.base.exceptions import TwilioException, TwilioRestException

        if not _E164.fullmatch(to):
            raise AdapterError(ADAPTER, f"recipient {mask_phone(to)} is not E.164: not sent", retryable=False)
        kwargs: dict[str, Any] = {"to": to, "body": body}
        if self._config.messaging_service_sid:
            kwargs["messaging_service_sid"] = self._config.messaging_service_sid
        else:
            kwargs["from_"] = self._config.from_number
        if status_callback:
            kwargs["status_callback"] = status_callback
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._timeout_s):
                message = await self._twilio().messages.create_async(**kwargs)
        except TwilioRestException as exc:
            EXTERNAL_ERRORS.labels(ADAPTER, f"http_{exc.status}").inc()
            retryable = exc.status == 429 or exc.status >= 500
            raise AdapterError(
                ADAPTER,
                f"message refused: HTTP {exc.status}, error {exc.code}: {_mask_numbers(str(exc.msg))[:200]}",
                retryable=retryable,
                status=exc.status,
            ) from None
        except TimeoutError:
            EXTERNAL_ERRORS.labels(ADAPTER, "timeout").inc()
            raise AdapterError(
                ADAPTER, f"send timed out after {self._timeout_s:g}s", retryable=True
            ) from None
        except aiohttp.ClientError as exc:
            EXTERNAL_ERRORS.labels(ADAPTER, "connection").inc()
            raise AdapterError(ADAPTER, f"connection failed ({type(exc).__name__})", retryable=True) from None
        except TwilioException as exc:
            EXTERNAL_ERRORS.labels(ADAPTER, "sdk").inc()
            raise AdapterError(ADAPTER, f"SDK error ({type(exc).__name__})", retryable=False) from None
        finally:
            EXTERNAL_LATENCY.labels(ADAPTER, "POST Messages").observe(time.perf_counter() - started)
        log.info(
            "twilio_sms_sent",
            to=mask_phone(to),
            sid=message.sid,
            status=message.status,
            idempotency_key=idempotency_key,
        )
        return SmsReceipt(
            sid=str(message.sid),
            status=str(message.status),
            extra={"num_segments": message.num_segments, "error_code": message.error_code},
        )
