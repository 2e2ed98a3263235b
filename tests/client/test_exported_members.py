"""The public surface of `limelight.client` is exactly `__all__` (like httpx's tests/test_exported_members.py)."""

from __future__ import annotations

import inspect

import limelight.client
from limelight.client import AsyncClient, Client

RESOURCES = ("orgs", "users", "members", "invitations", "auth", "keys", "datasets", "events", "jobs", "recipes", "models",
             "deployments", "audit")
INFERENCE = ("predict", "recommend", "similar", "explain", "score_users", "embed", "classify", "search", "generate",
             "invoke")


def test_all_is_exactly_the_public_names() -> None:
    exported = set(limelight.client.__all__)
    public = {name for name in dir(limelight.client) if not name.startswith("_")}
    assert exported == {"DEFAULT_BASE_URL", "AsyncClient", "Client", "JobProgress", "UploadProgress"}
    assert public == exported
    for name in exported:
        assert getattr(limelight.client, name) is not None


def _methods(resource: object) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(member) for name, member in inspect.getmembers(resource, callable)
            if not name.startswith("_")}


def test_async_client_mirrors_the_sync_client() -> None:
    sync, asynchronous = Client(api_key="x"), AsyncClient(api_key="x")
    try:
        for name in RESOURCES:
            sync_methods, async_methods = _methods(getattr(sync, name)), _methods(getattr(asynchronous, name))
            assert sync_methods.keys() == async_methods.keys(), name
            for method, signature in sync_methods.items():
                assert list(signature.parameters) == list(async_methods[method].parameters), f"{name}.{method}"
        for name in (*INFERENCE, "whoami"):
            assert inspect.signature(getattr(sync, name)).parameters.keys() == \
                inspect.signature(getattr(asynchronous, name)).parameters.keys()
            assert inspect.iscoroutinefunction(getattr(asynchronous, name))
        for name in (*INFERENCE, "generate_stream"):  # a model is named "org/name", as in the CLI and the URL
            assert list(inspect.signature(getattr(sync, name)).parameters)[0] == "model", name
            assert list(inspect.signature(getattr(asynchronous, name)).parameters)[0] == "model", name
    finally:
        sync.close()


def test_every_list_has_an_iterator() -> None:
    with Client(api_key="x") as client:
        for name in RESOURCES:
            methods = _methods(getattr(client, name))
            for method in methods:
                if method == "list" and name != "recipes":
                    assert "iter" in methods, name
                if method.startswith("list_"):
                    assert "iter_" + method.removeprefix("list_") in methods, f"{name}.{method}"
        assert "iter_search" in _methods(client.models)
