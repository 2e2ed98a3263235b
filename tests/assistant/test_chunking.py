"""Passages: Markdown sections and blocks, a word budget, overlap between neighbours."""

from __future__ import annotations

import pytest

from limelight.assistant.chunking import chunk_document, word_count

ARTICLE = """# Downloads

Intro paragraph about downloads on phones and tablets.

## Limits

- Up to **100 titles** per device.
- Titles expire after 30 days.

## Quality

Choose Standard or Higher quality in the app settings.
"""


def test_sections_become_passages_named_by_their_heading_without_markup():
    passages = chunk_document("downloads", "Downloads", ARTICLE, max_tokens=50, overlap_tokens=10)
    assert [p.section for p in passages] == ["", "Limits", "Quality"]
    assert passages[1].text == "- Up to 100 titles per device.\n- Titles expire after 30 days."
    assert all(p.doc_id == "downloads" and p.title == "Downloads" for p in passages)


def test_long_sections_are_split_within_budget_and_neighbours_overlap():
    sentences = [f"Sentence number {n} talks about refunds and charges." for n in range(40)]
    text = "# Refunds\n\n" + "\n\n".join(" ".join(sentences[i:i + 4]) for i in range(0, 40, 4))
    passages = chunk_document("refunds", "Refunds", text, max_tokens=60, overlap_tokens=15)
    assert len(passages) > 3
    assert all(word_count(p.text) <= 60 for p in passages)
    for before, after in zip(passages, passages[1:], strict=False):
        assert before.text.split()[-15:] == after.text.split()[:15]  # the overlap carries the last words
    words = " ".join(p.text for p in passages).split()
    assert all(f"{n}" in words for n in range(40))  # nothing is lost


def test_a_block_longer_than_a_passage_is_cut_in_overlapping_windows():
    text = " ".join(f"w{n}" for n in range(250))
    passages = chunk_document("long", "Long", text, max_tokens=100, overlap_tokens=20)
    assert all(word_count(p.text) <= 100 for p in passages)
    assert passages[0].text.split()[-20:] == passages[1].text.split()[:20]
    assert passages[-1].text.split()[-1] == "w249"


def test_no_overlap_and_bad_budgets():
    text = "# T\n\n" + " ".join(f"w{n}" for n in range(100))
    passages = chunk_document("t", "T", text, max_tokens=40, overlap_tokens=0)
    assert " ".join(p.text for p in passages).split() == [f"w{n}" for n in range(100)]
    with pytest.raises(ValueError):
        chunk_document("t", "T", text, max_tokens=40, overlap_tokens=40)


def test_plain_text_without_headings_is_one_section():
    passages = chunk_document("note", "A note", "First paragraph.\n\nSecond paragraph.", max_tokens=50)
    assert len(passages) == 1 and passages[0].text == "First paragraph.\nSecond paragraph."
