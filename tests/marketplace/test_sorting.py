"""Every sort, and paging through it with cursors: each model once, in the order of one big page."""

from __future__ import annotations

import time

import pytest

from tests.marketplace.seeding import create, every_page, names, search, upload, word
from tests.support.factories import error_code, new_tenant, ok


@pytest.fixture(scope="module")
def catalogue(server):  # type: ignore[no-untyped-def]
    """Five public models of one org sharing a word: stars 2, 1, 0, 0, 0; traffic 3, 1, 0, 0, 0 calls."""
    owner, token = new_tenant(server), word()
    models = [f"{i}-{token[2:]}" for i in ("e", "d", "c", "b", "a")]  # created in this order
    filler = " ".join(["about movies"] * 30)
    with owner.client() as client:
        for i, name in enumerate(models):
            # the word weighs more in the name than in a description, more there than in a card
            text = {0: {"card": f"{filler} {token}"}, 1: {"description": token}}.get(i % 3, {"tags": [token]})
            create(client, owner.org, name, visibility="public", **text)
        for name in models[:2]:
            upload(client, owner.org, name)
    for fan in (new_tenant(server), new_tenant(server)):
        with fan.client() as client:
            ok(client.put(f"/api/v1/orgs/{owner.org}/models/{models[0]}/star"))
    with owner.client() as client:
        ok(client.put(f"/api/v1/orgs/{owner.org}/models/{models[1]}/star"))
        for name, calls in ((models[0], 3), (models[1], 1)):
            for _ in range(calls):
                ok(client.post(f"/v1/models/{owner.org}/{name}:predict", json={"inputs": [[0.1, 0.2, 0.3]]}))
    return owner, token, models


def _usage_counted(client, org: str, busiest: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Traffic reaches the rollups within a flush interval or two; wait until all of it has."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if names(search(client, org=org, sort="usage"))[:2] == busiest:
            return
        time.sleep(0.2)
    raise AssertionError("usage never counted")


@pytest.mark.parametrize("sort", ["relevance", "stars", "usage", "newest"])
def test_paging_with_each_sort_returns_every_model_once_in_order(catalogue, sort):
    owner, token, models = catalogue
    with owner.client() as client:
        if sort == "usage":
            _usage_counted(client, owner.org, models[:2])
        whole = names(search(client, q=token, sort=sort))
        paged = every_page(client, q=token, sort=sort, limit=2)
    assert sorted(whole) == sorted(models)
    assert paged == whole
    if sort == "stars":
        assert whole == [models[0], models[1], *sorted(models[2:])]  # ties broken by name
    elif sort == "usage":
        assert whole == [models[0], models[1], *sorted(models[2:])]
    elif sort == "newest":
        assert whole == models[::-1]


def test_relevance_is_the_default_with_text_and_newest_without(catalogue):
    owner, token, models = catalogue
    with owner.client() as client:
        with_text = names(search(client, q=token))
        without = names(search(client, org=owner.org))
        relevance = names(search(client, q=token, sort="relevance"))
        newest = names(search(client, org=owner.org, sort="newest"))
    assert with_text == relevance and without == newest == models[::-1]


def test_a_cursor_belongs_to_its_sort(catalogue):
    owner, token, _ = catalogue
    with owner.client() as client:
        cursor = search(client, q=token, sort="stars", limit=2)["next_cursor"]
        other = client.get("/api/v1/models", params={"q": token, "sort": "newest", "limit": 2, "cursor": cursor})
        default = client.get("/api/v1/models", params={"q": token, "limit": 2, "cursor": cursor})  # relevance
    assert cursor is not None
    assert other.status_code == 400 and error_code(other) == "bad_request"
    assert default.status_code == 400


def test_stars_and_usage_are_visible_to_other_orgs_and_counted_on_the_model(catalogue, server):
    owner, token, models = catalogue
    stranger = new_tenant(server)
    with stranger.client() as client:
        top = search(client, q=token, sort="stars")["items"][0]
    assert (top["name"], top["stars"], top["starred"]) == (models[0], 2, False)


def test_a_crafted_cursor_is_a_400_never_a_500(catalogue):
    import base64
    import json

    def encode_cursor(*values: object) -> str:  # as the server would, with any JSON inside
        return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")

    owner, token, _ = catalogue
    crafted = [("newest", "2026-01-01T00:00:00", "a", "b"), ("newest", "yesterday", "a", "b"),
               ("stars", 10**30, "a", "b"), ("stars", True, "a", "b"), ("stars", 1, "a\x00", "b"),
               ("stars", 1, "a", ["b"]), ("usage", "1", "a", "b"), ("relevance", None, "a", "b")]
    with owner.client() as client:
        for values in crafted:
            params = {"sort": values[0], "cursor": encode_cursor(*values)}
            if values[0] == "relevance":
                params["q"] = token
            response = client.get("/api/v1/models", params=params)
            assert response.status_code == 400, (values, response.text)
            assert error_code(response) == "bad_request"
