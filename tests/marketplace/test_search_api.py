"""Marketplace search through a real server, on SQLite and PostgreSQL: text, phrases, exclusions,
hostile input, facets and their counts, metric ranges, parameters."""

from __future__ import annotations

import pytest

from tests.marketplace.seeding import create, names, search, upload, word
from tests.support.factories import error_code, new_tenant, ok


@pytest.fixture(scope="module")
def tenant(server):  # type: ignore[no-untyped-def]
    return new_tenant(server)


def test_relevance_puts_a_name_match_before_a_description_and_a_card_mention(tenant):
    token, org = word(), tenant.org
    filler = " ".join(["catalogue notes about genres and audiences"] * 40)
    with tenant.client() as client:
        create(client, org, f"card-{token[2:]}", card=f"{filler} {token} {filler}")
        create(client, org, f"desc-{token[2:]}", description=f"ranks {token} by genre")
        create(client, org, f"{token}-recs", description="recommendations")
        create(client, org, f"none-{token[2:]}", description="nothing to see")
        found = search(client, q=token)
    assert names(found) == [f"{token}-recs", f"desc-{token[2:]}", f"card-{token[2:]}"]
    assert found["total"] == 3


def test_phrases_and_exclusions(tenant):
    token, org = word(), tenant.org
    with tenant.client() as client:
        create(client, org, f"ph1-{token[2:]}", card=f"{token}: the blue whale song, sung at dawn")
        create(client, org, f"ph2-{token[2:]}", card=f"{token}: a song of the blue whale, a beta model")
        create(client, org, f"ph3-{token[2:]}", card=f"{token}: whales sing songs")
        phrase = names(search(client, q=f'{token} "blue whale"'))
        order = names(search(client, q=f'{token} "whale song"'))
        stemmed = names(search(client, q=f"{token} whale song"))
        excluded = names(search(client, q=f"{token} -beta"))
        excluded_phrase = names(search(client, q=f'{token} -"blue whale"'))
        only_exclusion = names(search(client, q="-beta", org=org, sort="newest"))
    assert sorted(phrase) == [f"ph1-{token[2:]}", f"ph2-{token[2:]}"]
    assert order == [f"ph1-{token[2:]}"]  # a phrase keeps its word order
    assert sorted(stemmed) == [f"ph1-{token[2:]}", f"ph2-{token[2:]}", f"ph3-{token[2:]}"]  # whales ~ whale
    assert sorted(excluded) == [f"ph1-{token[2:]}", f"ph3-{token[2:]}"]
    assert excluded_phrase == [f"ph3-{token[2:]}"]
    assert f"ph2-{token[2:]}" not in only_exclusion and f"ph1-{token[2:]}" in only_exclusion


def test_text_in_tags_and_case_fold_and_accents_fold_on_sqlite(tenant):
    token, org = word(), tenant.org
    postgres = tenant.server.env["LIMELIGHT_DATABASE_URL"].startswith("postgresql")
    with tenant.client() as client:
        create(client, org, f"tagged-{token[2:]}", tags=[token, "sci-fi"], description="Café Économie")
        assert names(search(client, q=token.upper())) == [f"tagged-{token[2:]}"]
        assert names(search(client, q=f"{token} CAFÉ économie")) == [f"tagged-{token[2:]}"]
        # SQLite's tokenizer drops diacritics; PostgreSQL's "english" configuration keeps them
        unaccented = names(search(client, q=f"{token} cafe economie"))
    assert unaccented == ([] if postgres else [f"tagged-{token[2:]}"])


HOSTILE = ['"', '""', "*", "NEAR(", "NEAR(a b, 2)", "OR AND", "AND", "a OR b NOT c", "^x", "col:umn", "name:x",
           "'; DROP TABLE models; --", "\\", "%_%", "-", "--", '-"', "(", ")", "{}", "日本語の検索", "🙂 emoji",
           "é" * 100, "\u202e reversed", "a\x00b", "x" * 10_000, " ".join(["w"] * 300), '"' * 301]


@pytest.mark.parametrize("q", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_is_a_400_or_an_answer_never_a_500(tenant, q):
    with tenant.client() as client:
        response = client.get("/api/v1/models", params={"q": q, "limit": 5})
    assert response.status_code in (200, 400), (q[:40], response.status_code, response.text[:300])
    if response.status_code == 400:
        assert error_code(response) == "invalid_query"
    else:
        assert isinstance(response.json()["items"], list)


def test_a_query_of_punctuation_only_is_invalid_query(tenant):
    with tenant.client() as client:
        response = client.get("/api/v1/models", params={"q": '* "" -'})
        raw = client.get("/api/v1/models?q=%ED%A0%80%FF")  # not UTF-8 at all
    assert response.status_code == 400 and error_code(response) == "invalid_query"
    assert response.json()["error"]["details"]["reason"] == "no_terms"
    assert raw.status_code in (200, 400)


def test_facets_count_every_match_not_only_the_page(tenant):
    token, org = word(), tenant.org
    with tenant.client() as client:
        create(client, org, f"f1-{token[2:]}", task="classify", tags=["movies", "churn"], licence="MIT",
               description=token)
        create(client, org, f"f2-{token[2:]}", task="classify", tags=["movies"], licence="Apache-2.0", card=token)
        create(client, org, f"f3-{token[2:]}", task="recommend", tags=["movies", "anime", token], licence="MIT")
        create(client, org, f"f4-{token[2:]}", task="embed", tags=[], description=token)
        upload(client, org, f"f1-{token[2:]}", runtime="sklearn")
        upload(client, org, f"f2-{token[2:]}")
        upload(client, org, f"f3-{token[2:]}")
        first = search(client, q=token, limit=1)
        classify = search(client, q=token, task="classify")
        both_tags = search(client, q=token, tag=["movies", "churn"])
        mit = search(client, q=token, licence="MIT", runtime="lightgbm")
        mine = search(client, q=token, org=org)
        nobody = search(client, q=token, org="no-such-org-" + token)
    assert len(first["items"]) == 1 and first["total"] == 4
    assert first["facets"] == {
        "task": {"classify": 2, "embed": 1, "recommend": 1},
        "runtime": {"lightgbm": 2, "sklearn": 1},
        "org": {org: 4},
        "tag": {"movies": 3, "anime": 1, "churn": 1, token: 1},
        "licence": {"MIT": 2, "Apache-2.0": 1},
    }
    assert list(first["facets"]["tag"]) == ["movies", "anime", "churn", token]  # most frequent first, then by name
    assert classify["total"] == 2 and classify["facets"]["task"] == {"classify": 2}
    assert names(both_tags) == [f"f1-{token[2:]}"]
    assert names(mit) == [f"f3-{token[2:]}"]
    assert mine["total"] == 4 and nobody["total"] == 0 and nobody["facets"]["org"] == {}


def test_metric_ranges_follow_the_production_version(tenant):
    token, org = word(), tenant.org
    with tenant.client() as client:
        for name, ndcg in (("low", 0.2), ("high", 0.5)):
            create(client, org, f"{name}-{token[2:]}", description=token)
            upload(client, org, f"{name}-{token[2:]}", metrics={"ndcg@10": ndcg, "note": 1})
        create(client, org, f"none-{token[2:]}", description=token)
        assert names(search(client, q=token, metric="ndcg@10>=0.3")) == [f"high-{token[2:]}"]
        assert names(search(client, q=token, metric="ndcg@10<0.3")) == [f"low-{token[2:]}"]
        assert sorted(names(search(client, q=token, metric=["ndcg@10>0.1", "ndcg@10<=0.5"]))) == [
            f"high-{token[2:]}", f"low-{token[2:]}"]
        assert names(search(client, q=token, metric="nobody-has-this>=0")) == []
        # a newer, worse version is latest, but production stays on v1: the filter follows production
        upload(client, org, f"high-{token[2:]}", metrics={"ndcg@10": 0.1})
        assert names(search(client, q=token, metric="ndcg@10>=0.3")) == []
        ok(client.put(f"/api/v1/orgs/{org}/models/high-{token[2:]}/aliases/production", json={"version": 1}))
        assert names(search(client, q=token, metric="ndcg@10>=0.3")) == [f"high-{token[2:]}"]


@pytest.mark.parametrize("metric", ["ndcg@10=0.3", "ndcg@10>=abc", "ndcg@10>=", ">=1", "ndcg@10>=nan"])
def test_a_malformed_metric_range_is_invalid_params_naming_it(tenant, metric):
    with tenant.client() as client:
        response = client.get("/api/v1/models", params={"metric": metric})
    assert response.status_code == 400 and error_code(response) == "invalid_params"
    assert response.json()["error"]["details"]["param"] == "metric"


def test_runtime_is_the_production_else_the_latest_versions(tenant):
    token, org = word(), tenant.org
    name = f"rt-{token[2:]}"
    with tenant.client() as client:
        create(client, org, name, description=token)
        assert search(client, q=token)["facets"]["runtime"] == {}
        upload(client, org, name, runtime="sklearn")
        upload(client, org, name, runtime="lightgbm")
        assert search(client, q=token)["facets"]["runtime"] == {"lightgbm": 1}
        ok(client.put(f"/api/v1/orgs/{org}/models/{name}/aliases/production", json={"version": 1}))
        assert names(search(client, q=token, runtime="sklearn")) == [name]
        ok(client.delete(f"/api/v1/orgs/{org}/models/{name}/aliases/production"))
        assert names(search(client, q=token, runtime="lightgbm")) == [name]
        assert client.delete(f"/api/v1/orgs/{org}/models/{name}/versions/2").status_code == 204
        assert names(search(client, q=token, runtime="sklearn")) == [name]


@pytest.mark.parametrize(("params", "status", "code"), [
    ({"colour": "red"}, 400, "invalid_params"),
    ({"tags": "movies"}, 400, "invalid_params"),
    ({"task": "juggling"}, 422, "validation_failed"),
    ({"runtime": "cobol"}, 422, "validation_failed"),
    ({"sort": "random"}, 422, "validation_failed"),
    ({"org": "Not An Org"}, 422, "validation_failed"),
    ({"licence": "not a licence!"}, 422, "validation_failed"),
    ({"tag": "UPPER"}, 422, "validation_failed"),
    ({"cursor": "garbage"}, 400, "bad_request"),
])
def test_bad_parameters_are_clear_4xx(tenant, params, status, code):
    with tenant.client() as client:
        response = client.get("/api/v1/models", params=params)
    assert response.status_code == status, response.text
    assert error_code(response) == code
    if code == "invalid_params":
        assert response.json()["error"]["details"]["param"] == next(iter(params))


def test_licence_is_set_changed_and_removed_and_archived_models_leave_the_results(tenant):
    token, org = word(), tenant.org
    name = f"lic-{token[2:]}"
    with tenant.client() as client:
        assert create(client, org, name, description=token, licence="Apache-2.0")["licence"] == "Apache-2.0"
        bad = client.post(f"/api/v1/orgs/{org}/models", json={"name": word(), "task": "classify", "licence": "a b"})
        assert bad.status_code == 422
        assert ok(client.patch(f"/api/v1/orgs/{org}/models/{name}", json={"licence": "MIT"}))["licence"] == "MIT"
        assert search(client, q=token)["facets"]["licence"] == {"MIT": 1}
        assert ok(client.patch(f"/api/v1/orgs/{org}/models/{name}", json={"licence": ""}))["licence"] is None
        assert search(client, q=token)["facets"]["licence"] == {}
        ok(client.patch(f"/api/v1/orgs/{org}/models/{name}", json={"archived": True}))
        assert search(client, q=token)["total"] == 0


def test_edits_to_description_card_and_tags_are_searchable_at_once(tenant):
    old, new, org = word(), word(), tenant.org
    name = f"edit-{old[2:]}"
    with tenant.client() as client:
        create(client, org, name, description=old)
        ok(client.patch(f"/api/v1/orgs/{org}/models/{name}", json={"description": "plain", "card": f"# {new}"}))
        assert search(client, q=old)["total"] == 0 and names(search(client, q=new)) == [name]
        ok(client.patch(f"/api/v1/orgs/{org}/models/{name}", json={"card": "", "tags": [old, old]}))
        changed = search(client, q=old)
        assert names(changed) == [name] and changed["items"][0]["tags"] == [old]  # a repeated tag is kept once
        assert search(client, q=new)["total"] == 0
        assert client.delete(f"/api/v1/orgs/{org}/models/{name}").status_code == 204
        assert search(client, q=old)["total"] == 0
