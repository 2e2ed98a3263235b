"""How `limelight serve` listens: TLS on the HTTP and gRPC ports, or plain HTTP behind a named proxy.

Production mode refuses plain HTTP unless the operator says which proxy terminates TLS in front of
it (``server.forwarded_allow_ips``): session cookies and API keys must not cross a network in clear.
Only that proxy's ``X-Forwarded-*`` headers are believed; with none named, none are.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

from limelight.config import Settings

__all__ = ["TlsFiles", "TransportRefused", "check_transport", "read_tls_files", "uvicorn_transport_options"]

PLAIN_HTTP_REFUSED = (
    "production mode serves HTTPS only: give --ssl-certfile and --ssl-keyfile (server.ssl_certfile and "
    "server.ssl_keyfile), or, behind a proxy that terminates TLS, name it with --forwarded-allow-ips "
    "(server.forwarded_allow_ips)"
)


class TransportRefused(Exception):
    """The listener cannot start as configured; the message says what to change."""


@dataclass(frozen=True)
class TlsFiles:
    """PEM bytes of the server certificate (chain) and its private key."""

    certificate_chain: bytes
    private_key: bytes


def check_transport(settings: Settings) -> None:
    """Refuse plain HTTP in production, and a certificate or key that cannot be loaded, before binding."""
    server = settings.server
    if settings.mode == "production" and not server.tls and not server.forwarded_allow_ips:
        raise TransportRefused(PLAIN_HTTP_REFUSED)
    if server.tls:
        read_tls_files(settings)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            context.load_cert_chain(str(server.ssl_certfile), str(server.ssl_keyfile))
        except (ssl.SSLError, ValueError) as exc:
            raise TransportRefused(f"the TLS certificate and key do not load together: {exc}") from None


def read_tls_files(settings: Settings) -> TlsFiles | None:
    """The configured certificate and key, or None when TLS is off."""
    server = settings.server
    if server.ssl_certfile is None or server.ssl_keyfile is None:
        return None
    try:
        return TlsFiles(server.ssl_certfile.read_bytes(), server.ssl_keyfile.read_bytes())
    except OSError as exc:
        raise TransportRefused(f"cannot read the TLS certificate or key: {exc.filename}: {exc.strerror}") from None


def uvicorn_transport_options(settings: Settings) -> dict[str, Any]:
    """The TLS and proxy arguments of ``uvicorn.run`` for these settings."""
    server = settings.server
    options: dict[str, Any] = {
        # uvicorn trusts X-Forwarded-* from 127.0.0.1 by default; only a named proxy is trusted here
        # (and with none, uvicorn's proxy middleware stays out of every request's way).
        "proxy_headers": bool(server.forwarded_allow_ips),
        "forwarded_allow_ips": server.forwarded_allow_ips,
    }
    if server.tls:
        options.update(ssl_certfile=str(server.ssl_certfile), ssl_keyfile=str(server.ssl_keyfile))
    return options
