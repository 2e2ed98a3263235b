"""Modes, filters and highlights on a model built with the real encoder."""

from __future__ import annotations

import pytest

from limelight.errors import ValidationFailed
from tests.search import catalog_data


def _ids(answer: dict) -> list[str]:  # type: ignore[type-arg]
    return [item["item_id"] for item in answer["items"]]


def test_a_synonym_query_is_found_by_meaning_only(engine_for):
    engine = engine_for()
    assert _ids(engine.search(catalog_data.SYNONYM_QUERY, 10, mode="lexical")) == []
    assert _ids(engine.search(catalog_data.SYNONYM_QUERY, 3, mode="semantic"))[0] == catalog_data.CHEF_ID
    assert _ids(engine.search(catalog_data.SYNONYM_QUERY, 3, mode="hybrid"))[0] == catalog_data.CHEF_ID


def test_a_rare_title_word_is_found_lexically_and_highlighted(engine_for):
    answer = engine_for().search(catalog_data.RARE_QUERY, 5, mode="lexical")
    assert _ids(answer) == [catalog_data.RARE_ID]
    top = answer["items"][0]
    assert top["title"] == "Zarkovian Nights" and top["highlights"] == {"title": [[0, 9]]}
    assert _ids(engine_for().search(catalog_data.RARE_QUERY, 5))[0] == catalog_data.RARE_ID


def test_filters_restrict_every_mode(engine_for):
    engine = engine_for()
    for mode in ("hybrid", "lexical", "semantic"):
        answer = engine.search("thieves rob a casino", 10, {"genres": ["Crime"], "year": {"min": 1990}}, mode)
        assert answer["items"], mode
        assert all("Crime" in i["genres"] and i["year"] >= 1990 for i in answer["items"]), mode
    excluded = _ids(engine.search("casino heist", 3))
    assert not set(_ids(engine.search("casino heist", 10, {"exclude_item_ids": excluded}))) & set(excluded)
    assert set(_ids(engine.search("casino heist", 10, {"item_ids": ["m0000", "m0001"]}))) <= {"m0000", "m0001"}


def test_a_filter_on_an_unknown_column_names_it(engine_for):
    with pytest.raises(ValidationFailed) as caught:
        engine_for().search("heist", 5, {"director": ["Nolan"]})
    assert caught.value.details["field"] == "filters.director"


def test_results_carry_metadata_scores_best_first_and_description_spans(engine_for):
    answer = engine_for().search("haunted ghost house", 5)
    assert answer["index"] == "exact" and len(answer["items"]) == 5
    scores = [item["score"] for item in answer["items"]]
    assert scores == sorted(scores, reverse=True)
    top = answer["items"][0]
    assert {"item_id", "title", "genres", "year", "description", "studio", "highlights"} <= set(top)
    assert top["studio"].startswith("studio-")  # an extra metadata column travels with the item
    spans = top["highlights"]["description"]
    assert {top["description"][s:e].lower() for s, e in spans} <= {"ghost", "house"}


def test_one_batch_answers_each_request_in_order(engine_for):
    answers = engine_for().search_many([{"query": catalog_data.RARE_QUERY, "k": 1, "mode": "lexical"},
                                        {"query": catalog_data.SYNONYM_QUERY, "k": 1}])
    assert [_ids(a) for a in answers] == [[catalog_data.RARE_ID], [catalog_data.CHEF_ID]]
