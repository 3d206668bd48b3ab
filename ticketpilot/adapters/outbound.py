"""Outbound HTTP for every vendor client: the standard proxy variables and ``[adapters] ca_bundle``.

- **Proxies.** ``HTTPS_PROXY``, ``HTTP_PROXY`` and ``NO_PROXY`` (either case) are honoured by every client.
  Our own calls (HaloPSA, Graph, the MFA connector, Teams) ask :func:`env_proxy` per request, which reads
  the variables as aiohttp's ``trust_env`` does but leaves out the rest of ``trust_env``: it would also add
  ``~/.netrc`` credentials to vendor calls, and a netrc ``default`` entry would make aiohttp refuse every
  call that carries its own ``Authorization`` header. Twilio's SDK gets a ``trust_env`` session (it always
  sends its own credentials, so netrc is never read for it). msal (requests) and openai (httpx2) read the
  variables themselves.
- **Private CAs.** ``ca_bundle`` is a PEM file of the certificate authorities to trust for vendor calls
  instead of the defaults (a TLS-inspecting egress proxy, a private API gateway). Include the public roots
  too if some vendors are reached without the inspecting proxy. Empty: each library's default trust, and
  the variables it honours (``REQUESTS_CA_BUNDLE``, ``SSL_CERT_FILE``).
"""

from __future__ import annotations

import ssl
from typing import Any

import aiohttp


def ssl_context(ca_bundle: str) -> ssl.SSLContext | bool:
    """aiohttp's ``ssl=`` / httpx's ``verify=``: the bundle's CAs, or True (the library's default trust)."""
    if not ca_bundle:
        return True
    return ssl.create_default_context(cafile=ca_bundle)


def client_session(
    *, timeout: aiohttp.ClientTimeout | None = None, ca_bundle: str = "", trust_env: bool = False
) -> aiohttp.ClientSession:
    """An aiohttp session that trusts ``ca_bundle`` when set. With ``trust_env`` it also finds its proxy in the
    environment by itself; without, pass :func:`env_proxy`'s answer with each request.

    Must be called inside the running event loop."""
    return aiohttp.ClientSession(
        timeout=timeout if timeout is not None else aiohttp.ClientTimeout(total=300),
        trust_env=trust_env,
        connector=aiohttp.TCPConnector(ssl=ssl_context(ca_bundle)),
        raise_for_status=False,
    )


def env_proxy(url: str) -> dict[str, Any]:
    """``proxy=``/``proxy_auth=`` for an aiohttp request to ``url``: the proxy that ``HTTPS_PROXY`` or
    ``HTTP_PROXY`` names for its scheme, none when ``NO_PROXY`` matches its host or nothing is set."""
    from aiohttp.helpers import get_env_proxy_for_url
    from yarl import URL

    try:
        proxy, proxy_auth = get_env_proxy_for_url(URL(url))
    except LookupError:
        return {}
    return {"proxy": proxy, "proxy_auth": proxy_auth}


def requests_session(ca_bundle: str) -> Any:
    """A ``requests`` session (for msal's ``http_client``) that verifies with ``ca_bundle``.

    A plain session's ``verify`` loses to ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``: requests lets those
    variables override it, so the bundle is applied after the environment is merged. Proxies still come from
    the environment."""
    import requests

    class BundleSession(requests.Session):
        def merge_environment_settings(self, *args: Any, **kwargs: Any) -> Any:
            settings = super().merge_environment_settings(*args, **kwargs)
            settings["verify"] = ca_bundle
            return settings

    return BundleSession()
