"""The search language is parsed into data before any SQL: what is a term, what is refused."""

from __future__ import annotations

import pytest

from limelight.errors import InvalidParams, InvalidQuery
from limelight.marketplace.fulltext import fts5_string
from limelight.marketplace.query import (
    MAX_QUERY_CHARS,
    MetricRange,
    TextQuery,
    parse_metric_ranges,
    parse_text,
)


@pytest.mark.parametrize(("raw", "required", "excluded"), [
    ("anime recs", ("anime", "recs"), ()),
    ('"cold start" ranking', ("cold start", "ranking"), ()),
    ('movies -horror -"slow burn"', ("movies",), ("horror", "slow burn")),
    ('"left open', ("left open",), ()),
    ("NEAR( OR AND", ("NEAR(", "OR", "AND"), ()),
    ("a\x00b\x1fc", ("a", "b", "c"), ()),
    ("anime anime", ("anime",), ()),
    ("日本語 Überraschung", ("日本語", "Überraschung"), ()),
])
def test_words_phrases_and_exclusions(raw, required, excluded):
    assert parse_text(raw) == TextQuery(required, excluded)


@pytest.mark.parametrize("raw", [None, "", "   ", "\t"])
def test_blank_text_is_no_text_filter(raw):
    assert parse_text(raw) is None


@pytest.mark.parametrize(("raw", "reason"), [
    ('"', "no_terms"), ("*", "no_terms"), ('"" -""', "no_terms"), ("- -- ---", "no_terms"),
    ("x" * (MAX_QUERY_CHARS + 1), "too_long"), (" ".join(f"w{i}" for i in range(17)), "too_many_terms"),
])
def test_text_with_nothing_to_search_for_is_refused(raw, reason):
    with pytest.raises(InvalidQuery) as refused:
        parse_text(raw)
    assert refused.value.code == "invalid_query" and refused.value.status == 400
    assert refused.value.details["reason"] == reason


def test_exclusions_alone_filter_but_do_not_rank():
    query = parse_text("-beta")
    assert query is not None and query.excluded == ("beta",) and not query.ranks


@pytest.mark.parametrize("term", ['say "hi"', "NEAR(a b)", "x OR y", "col:umn", "*", "^start"])
def test_a_term_is_one_fts5_string_whatever_it_holds(term):
    quoted = fts5_string(term)
    assert quoted.startswith('"') and quoted.endswith('"')
    assert quoted[1:-1].replace('""', "") .count('"') == 0  # every inner quote is doubled


def test_metric_ranges():
    assert parse_metric_ranges(["ndcg@10>=0.3", "auc < 0.9", "loss<=1e-3", "recall>-1"]) == (
        MetricRange("ndcg@10", ">=", 0.3), MetricRange("auc", "<", 0.9), MetricRange("loss", "<=", 0.001),
        MetricRange("recall", ">", -1.0))
    assert parse_metric_ranges(None) == ()


@pytest.mark.parametrize("raw", ["ndcg@10=0.3", "ndcg@10>=", ">=0.3", "ndcg@10>=abc", "ndcg@10>=nan", "ndcg@10>=inf",
                                 "ndcg@10 >= 0.3 extra", 'na"me>=1', "x" * 65 + ">=1", "ndcg@10=>0.3"])
def test_malformed_metric_ranges_name_the_parameter(raw):
    with pytest.raises(InvalidParams) as refused:
        parse_metric_ranges([raw])
    assert refused.value.code == "invalid_params" and refused.value.details["param"] == "metric"
