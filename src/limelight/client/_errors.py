"""Turns an error response back into the `limelight.errors` class the server raised.

Besides what the class carries (``code``, ``status``, ``message``, ``details``), the SDK sets on
every error it raises:

* ``request_id``: the server's id of the failed request (body, else the ``X-Request-ID`` header),
  the key to the server log line;
* ``http_status``: the status actually received;
* ``wire_code``: the ``code`` string actually received (differs from ``code`` when an older SDK
  meets a code it does not know and falls back to the class of the HTTP status);
* ``retry_after_s``: from ``Retry-After``, on 429/503 answers that send it.
"""

from __future__ import annotations

from typing import Any

import httpx

from limelight.errors import LimelightError, error_class_for_code

_MAX_TEXT_CHARS = 300


def error_from_response(response: httpx.Response) -> LimelightError:
    code, message, details, request_id = _error_fields(response)
    cls = error_class_for_code(code, response.status_code)
    error = cls(message, details=details)
    # setattr: these are per-response facts, not part of the class's contract with the server.
    setattr(error, "request_id", request_id or response.headers.get("x-request-id"))  # noqa: B010
    setattr(error, "http_status", response.status_code)  # noqa: B010
    setattr(error, "wire_code", code)  # noqa: B010
    retry_after_s = _retry_after_s(response)
    if retry_after_s is not None:
        setattr(error, "retry_after_s", retry_after_s)  # noqa: B010
    return error


def _error_fields(response: httpx.Response) -> tuple[str, str, dict[str, Any], str | None]:
    """(code, message, details, request_id) from the body; a non-JSON body (a proxy page) still maps."""
    try:
        body = response.json()
        error = body["error"]
        details = error.get("details") or {}
        return (str(error["code"]), str(error.get("message") or ""),
                details if isinstance(details, dict) else {"details": details}, error.get("request_id"))
    except (ValueError, KeyError, TypeError, AttributeError):
        text = response.text[:_MAX_TEXT_CHARS].strip()
        message = f"HTTP {response.status_code} {response.reason_phrase}" + (f": {text}" if text else "")
        return f"http_{response.status_code}", message, {}, None


def _retry_after_s(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None  # an HTTP-date: rare from limelight, and the class default still applies
