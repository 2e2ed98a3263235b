"""The marketplace from the SDK and the CLI: search with every filter and sort, stars."""

from __future__ import annotations

import subprocess
import sys

from limelight.client import Client
from limelight.errors import InvalidParams, InvalidQuery, NotFound
from limelight.schemas.registry import ModelSearchPage, SearchSort
from tests.marketplace.seeding import create, upload, word
from tests.support.factories import new_tenant


def _cli(server, key: str, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {"LIMELIGHT_URL": server.url, "LIMELIGHT_API_KEY": key, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb",
           "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "limelight.cli.main", *args], env=env, text=True,
                          capture_output=True, timeout=120, check=False)


def test_sdk_search_filters_sorts_and_stars(sqlite_server):
    owner, fan = new_tenant(sqlite_server), new_tenant(sqlite_server)
    token = word()
    with owner.client() as http:
        create(http, owner.org, f"a-{token[2:]}", description=token, tags=["movies"], licence="MIT",
               visibility="public")
        create(http, owner.org, f"b-{token[2:]}", description=f"{token} {token}", tags=["movies", "anime"],
               visibility="public", task="recommend")
        upload(http, owner.org, f"a-{token[2:]}", metrics={"ndcg@10": 0.4})
    with Client(sqlite_server.url, fan.key) as client:
        page = client.models.search(token, tag=["movies"], sort=SearchSort.newest, limit=1)
        assert isinstance(page, ModelSearchPage) and page.total == 2 and len(page.items) == 1
        assert page.facets is not None and page.facets["tag"] == {"movies": 2, "anime": 1}
        assert page.items[0].name == f"b-{token[2:]}" and page.next_cursor
        assert [m.name for m in client.models.iter_search(token, sort="newest", limit=1)] == [
            f"b-{token[2:]}", f"a-{token[2:]}"]
        assert [m.name for m in client.models.search(token, metric="ndcg@10>=0.3", runtime="lightgbm",
                                                     licence="MIT", org=owner.org).items] == [f"a-{token[2:]}"]
        assert client.models.search(token, task="recommend", tag="anime").total == 1
        starred = client.models.star(owner.org, f"a-{token[2:]}")
        assert (starred.stars, starred.starred) == (1, True)
        assert client.models.search(token, sort="stars").items[0].name == f"a-{token[2:]}"
        assert client.models.unstar(owner.org, f"a-{token[2:]}").stars == 0
        for bad, error in (({"q": "*"}, InvalidQuery), ({"metric": "x=1"}, InvalidParams)):
            try:
                client.models.search(**bad)  # type: ignore[arg-type]
            except error:
                pass
            else:
                raise AssertionError(f"{bad} was accepted")
        try:
            client.models.star(owner.org, f"missing-{token[2:]}")
        except NotFound:
            pass
        else:
            raise AssertionError("a missing model was starred")
        created = client.models.create(fan.org, f"own-{token[2:]}", "classify", licence="BSD-3-Clause")
        assert created.licence == "BSD-3-Clause"
        assert client.models.update(fan.org, created.name, licence="").licence is None


def test_cli_search_with_facets_and_star(sqlite_server):
    owner, fan = new_tenant(sqlite_server), new_tenant(sqlite_server)
    token = word()
    with owner.client() as http:
        create(http, owner.org, f"c-{token[2:]}", description=token, tags=["kids"], visibility="public",
               licence="Apache-2.0")
    listed = _cli(sqlite_server, fan.key, "models", "search", token, "--tag", "kids", "--licence", "Apache-2.0",
                  "--org", owner.org, "--sort", "stars")
    assert listed.returncode == 0, listed.stderr
    assert f"{owner.org}/c-{token[2:]}" in listed.stdout and "1 model match" in listed.stdout
    assert "kids (1)" in listed.stdout and "Apache-2.0 (1)" in listed.stdout
    starred = _cli(sqlite_server, fan.key, "models", "star", f"{owner.org}/c-{token[2:]}")
    assert starred.returncode == 0 and "Starred" in starred.stderr and "1 star" in starred.stderr
    as_json = _cli(sqlite_server, fan.key, "models", "search", token, "--json")
    import json

    body = json.loads(as_json.stdout)
    assert body["total"] == 1 and body["items"][0]["starred"] is True and body["facets"]["org"] == {owner.org: 1}
    unstarred = _cli(sqlite_server, fan.key, "models", "unstar", f"{owner.org}/c-{token[2:]}")
    assert unstarred.returncode == 0 and "0 left" in unstarred.stderr
    refused = _cli(sqlite_server, fan.key, "models", "search", "--metric", "ndcg")
    assert refused.returncode != 0 and "invalid_params" in refused.stderr and "Traceback" not in refused.stderr
