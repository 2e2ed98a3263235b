"""The operator's scrape credential for ``/metrics``: one bearer token, kept only as a digest.

``/metrics`` lists every org's model names and traffic, so it is not part of the tenant API: no
API key (not even an org admin's or a system admin's) opens it; only the token configured in
``server.metrics_token`` or ``server.metrics_token_file`` does. The token is hashed at start and
compared in constant time; neither the token nor its digest is ever logged or rendered.
"""

from __future__ import annotations

import hashlib
import hmac

from limelight.config import ServerSettings

MIN_TOKEN_CHARS = 24  # the same floor as server.metrics_token


class ScrapeCredential:
    """Accepts ``Authorization: Bearer <token>`` for the configured token; with none, accepts nothing."""

    __slots__ = ("_digest",)

    def __init__(self, token: str | None) -> None:
        self._digest = _digest(token) if token else None

    @classmethod
    def from_settings(cls, server: ServerSettings) -> ScrapeCredential:
        if server.metrics_token is not None:
            return cls(server.metrics_token.get_secret_value())
        if server.metrics_token_file is not None:
            token = server.metrics_token_file.read_text().strip()
            if len(token) < MIN_TOKEN_CHARS:
                raise ValueError(f"server.metrics_token_file must hold a token of {MIN_TOKEN_CHARS}+ characters")
            return cls(token)
        return cls(None)

    @property
    def configured(self) -> bool:
        return self._digest is not None

    def accepts(self, authorization: str | None) -> bool:
        if self._digest is None or not authorization:
            return False
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return False
        # digests of equal length: the comparison time says nothing about the token
        return hmac.compare_digest(_digest(presented.strip()), self._digest)

    def __repr__(self) -> str:
        return f"ScrapeCredential(configured={self.configured})"


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
