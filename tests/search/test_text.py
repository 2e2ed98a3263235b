"""Tokens and highlight spans."""

from __future__ import annotations

from limelight.search.text import embedding_text, highlights, tokens, weighted_tokens


def test_tokens_casefold_drop_stop_words_and_plurals():
    assert tokens("The Heists of Paris, 1999!") == ["heist", "paris", "1999"]
    assert tokens("stories glass") == ["story", "glass"]


def test_highlights_are_character_spans_of_matched_terms_per_field():
    fields = {"title": "The Great Heist", "description": "Heists go wrong; a heist crew splits."}
    found = highlights(set(tokens("heist")), fields)
    assert found["title"] == [[10, 15]]
    assert [fields["description"][s:e] for s, e in found["description"]] == ["Heists", "heist"]
    assert highlights({"nothing"}, fields) == {}


def test_field_weights_repeat_tokens_and_embedding_text_keeps_field_order():
    assert weighted_tokens({"title": "Heat", "description": "cops"}, {"title": 2, "description": 1}) == [
        "heat", "heat", "cop"]
    assert embedding_text({"title": "Heat", "genres": "", "description": "Cops."}, ["title", "genres",
                                                                                  "description"]) == "Heat. Cops."
