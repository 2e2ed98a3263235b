"""API key format: ``ll_<key id>_<secret>``.

The id finds the row; only a SHA-256 of the 256-bit random secret is stored. A fast hash is right
here (unlike for passwords) because the secret is random, not chosen by a person.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from limelight.db.base import new_id

_KEY_RE = re.compile(r"^ll_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$")


def generate_key() -> tuple[str, str, str]:
    """Returns (key id, full key to show once, secret hash to store)."""
    key_id = new_id()
    secret = secrets.token_urlsafe(32)
    return key_id, f"ll_{key_id}_{secret}", hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_key(raw: str) -> tuple[str, str] | None:
    match = _KEY_RE.match(raw)
    return (match.group(1), match.group(2)) if match else None


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
