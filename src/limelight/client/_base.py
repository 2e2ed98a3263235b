"""What the sync and async clients share: settings, request building, response handling.

Every SDK operation is first described as a `Call` (method, path, query, body, how to parse the
answer) by a plain function; `Client` and `AsyncClient` differ only in how they send it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

from limelight.client._errors import error_from_response
from limelight.schemas.common import Page

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT_S = 60.0
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API operation, described without doing any I/O."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: Mapping[str, Any] | None = None
    json: Any = None
    data: Mapping[str, str] | None = None
    files: Mapping[str, Any] | None = None
    timeout: httpx.Timeout | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def segment(value: str | int) -> str:
    """One path segment, percent-encoded, so an id like ``a/b`` cannot address another route."""
    return quote(str(value), safe="")


def query(**params: Any) -> dict[str, Any]:
    """Query parameters without the ones left at None (the server's default applies)."""
    return {key: value for key, value in params.items() if value is not None}


def body(**fields: Any) -> dict[str, Any]:
    """A JSON body without the fields left at None."""
    return {key: value for key, value in fields.items() if value is not None}


def as_model(cls: type[M]) -> Callable[[httpx.Response], M]:
    return lambda response: cls.model_validate_json(response.content)


def as_page(cls: type[M]) -> Callable[[httpx.Response], Page[M]]:
    page_cls = Page[cls]  # type: ignore[valid-type]
    return lambda response: page_cls.model_validate_json(response.content)


def as_list(cls: type[M]) -> Callable[[httpx.Response], list[M]]:
    """A bare JSON list or a page's ``items``, so either server shape parses."""
    adapter = TypeAdapter(list[cls])  # type: ignore[valid-type]

    def parse(response: httpx.Response) -> list[M]:
        payload = response.json()
        return adapter.validate_python(payload["items"] if isinstance(payload, dict) else payload)

    return parse


def as_json(response: httpx.Response) -> dict[str, Any]:
    payload = response.json()
    return payload if isinstance(payload, dict) else {"result": payload}


def as_none(response: httpx.Response) -> None:
    return None


class BaseClient:
    """Settings and request building for `Client` and `AsyncClient`."""

    _http: httpx.Client | httpx.AsyncClient

    def __init__(self, base_url: str | None, api_key: str | None, timeout: float | httpx.Timeout) -> None:
        self.base_url = (base_url or os.environ.get("LIMELIGHT_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.api_key = api_key if api_key is not None else (os.environ.get("LIMELIGHT_API_KEY") or None)
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        # Set by auth.login(): a password session uses the cookie jar plus this CSRF token.
        self._csrf_token: str | None = None

    def _default_headers(self) -> dict[str, str]:
        from limelight import __version__

        headers = {"User-Agent": f"limelight-sdk/{__version__}", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _request_headers(self, call: Call[Any]) -> dict[str, str]:
        headers = dict(call.headers)
        if self._csrf_token and call.method not in _SAFE_METHODS:
            headers[CSRF_HEADER] = self._csrf_token
        return headers

    def _build(self, http: httpx.Client | httpx.AsyncClient, call: Call[Any]) -> httpx.Request:
        return http.build_request(
            call.method, call.path, params=call.params, json=call.json, data=call.data, files=call.files,
            headers=self._request_headers(call),
            timeout=call.timeout if call.timeout is not None else httpx.USE_CLIENT_DEFAULT,
        )

    def _forget_session(self) -> None:
        self._csrf_token = None
        self._http.cookies.clear()

    @staticmethod
    def _handle(call: Call[T], response: httpx.Response) -> T:
        if response.is_error:
            raise error_from_response(response)
        return call.parse(response)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key={'***' if self.api_key else None})"
