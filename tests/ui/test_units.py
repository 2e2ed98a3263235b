"""The console's pure parts, without a browser: card sanitising, charts, the recipe form, traffic maths."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from limelight.errors import InvalidParams
from limelight.schemas.jobs import JobRead
from limelight.ui.access import local_path
from limelight.ui.cards import render_card
from limelight.ui.charts import bar_chart, line_chart
from limelight.ui.results import job_results
from limelight.ui.schema_form import param_fields, params_from_form
from limelight.ui.serving_counts import ModelCounts
from limelight.ui.traffic import TrafficRecorder, quantile_ms


def test_card_keeps_markdown_and_drops_active_content():
    html = render_card("# Title\n\n**bold** [ok](https://x.test)\n\n<script>alert(1)</script>"
                       "<img src=\"javascript:alert(2)\" onerror=\"alert(3)\"><a href=\"javascript:alert(4)\">x</a>"
                       "<div style=\"position:fixed\" onclick=\"alert(5)\">d</div>")
    assert "<h3>Title</h3>" in html and "<strong>bold</strong>" in html
    assert 'href="https://x.test"' in html and "noopener" in html
    for bad in ("<script", "alert(1)", "javascript:", "onerror", "onclick", "style="):
        assert bad not in html


@pytest.mark.parametrize("target,expected", [
    ("/datasets?x=1", "/datasets?x=1"), ("//evil.test/x", "/"), ("https://evil.test", "/"),
    ("/\\evil.test", "/"), ("", "/"), (None, "/"), ("datasets", "/"),
])
def test_only_local_paths_are_redirect_targets(target, expected):
    assert local_path(target) == expected


def test_bar_chart_scales_to_the_largest_value():
    chart = bar_chart([("als", 0.2), ("ease", 0.4), ("pop", 0.0)], title="ndcg@10", width=560)
    widths = {b.label: b.width for b in chart.bars}
    assert widths["ease"] == pytest.approx(chart.bar_span)
    assert widths["als"] == pytest.approx(chart.bar_span / 2)
    assert widths["pop"] == 0
    assert [b.best for b in chart.bars] == [False, True, False]
    assert [b.y for b in chart.bars] == sorted(b.y for b in chart.bars)


def test_line_chart_breaks_lines_at_gaps_and_rounds_the_axis_up():
    chart = line_chart([("p50", "s1", [(0, 1.0), (10, 3.0), (20, None), (30, 7.0), (40, 6.0)])],
                       title="Latency", unit="ms")
    assert len(chart.lines[0].segments) == 2
    assert chart.y_ticks[-1].text == "10"  # 7 rounds up to a nice 10
    assert chart.lines[0].last_text == "6 ms"
    assert line_chart([], title="t", unit="").empty


class _Params(BaseModel):
    factors: int = Field(64, ge=1, le=512, description="latent factors")
    regularization: float = 0.01
    use_gpu: bool = False
    split: str = Field("random", json_schema_extra={"enum": ["random", "time"]})
    half_life_days: float | None = Field(None, description="time decay")
    genres: list[str] = Field(default_factory=list)


def test_recipe_schema_becomes_labelled_fields_with_defaults():
    fields = {f.name: f for f in param_fields(_Params.model_json_schema())}
    assert fields["factors"].kind == "int" and fields["factors"].default == 64
    assert (fields["factors"].minimum, fields["factors"].maximum) == (1, 512)
    assert fields["factors"].description == "latent factors"
    assert fields["regularization"].kind == "float"
    assert fields["use_gpu"].kind == "bool"
    assert fields["split"].kind == "choice" and fields["split"].choices == ["random", "time"]
    assert fields["half_life_days"].kind == "float" and fields["half_life_days"].nullable
    assert fields["genres"].kind == "json"


def test_form_answers_become_typed_params_and_empty_keeps_the_default():
    fields = param_fields(_Params.model_json_schema())
    form = {"param.factors": "32", "param.regularization": "", "param.use_gpu": "on", "param.split": "time",
            "param.genres": '["Drama"]'}
    params = params_from_form(fields, form)
    assert params == {"factors": 32, "use_gpu": True, "split": "time", "genres": ["Drama"]}
    assert _Params.model_validate(params).regularization == 0.01
    with pytest.raises(InvalidParams) as caught:
        params_from_form(fields, {"param.factors": "many"})
    assert caught.value.details["fields"][0]["field"] == "params.factors"


def test_histogram_quantiles_interpolate_inside_the_bucket():
    buckets = {0.001: 0.0, 0.01: 50.0, 0.1: 100.0, float("inf"): 100.0}
    assert quantile_ms(buckets, 0.5) == pytest.approx(10.0)
    assert quantile_ms(buckets, 0.25) == pytest.approx(5.5)
    assert quantile_ms(buckets, 0.99) == pytest.approx(98.2)
    assert quantile_ms({0.1: 0.0, float("inf"): 0.0}, 0.5) is None


def test_recorder_turns_counter_samples_into_steps():
    readings = iter([
        {"o/m": ModelCounts(requests=10, errors=1, buckets={0.01: 10, float("inf"): 10}),
         "x/m": ModelCounts(requests=5)},
        {"o/m": ModelCounts(requests=40, errors=3, buckets={0.01: 30, float("inf"): 40}),
         "x/m": ModelCounts(requests=500)},
        {"o/m": ModelCounts(requests=5, errors=0, buckets={0.01: 5, float("inf"): 5})},  # a restart
    ])
    recorder = TrafficRecorder(lambda: next(readings), interval_s=10, window_s=3600)
    now = __import__("time").time()
    recorder.sample(now - 20)
    recorder.sample(now - 10)
    recorder.sample(now)
    traffic = recorder.traffic(org="o", name="m", live=False)
    assert [p.requests for p in traffic.points] == [30, 5]
    assert [p.errors for p in traffic.points] == [2, 0]
    assert traffic.points[0].rate_per_s == pytest.approx(3.0)
    assert traffic.points[0].p50_ms == pytest.approx(7.5)  # 20 of the step's 30 took at most 10 ms
    assert traffic.points[0].p99_ms == pytest.approx(10.0)  # beyond the last finite bucket: its bound
    assert recorder.traffic(org="o", live=False).requests == 35  # x/m belongs to another org


def test_job_results_read_candidates_and_pick_the_ranking_metric():
    job = JobRead.model_validate({
        "id": "j", "org": "o", "recipe": "recommend/auto", "params": {}, "model": "recs", "dataset_version_id": None,
        "state": "succeeded", "progress": 100.0, "message": "", "attempts": 1, "max_attempts": 1, "error": None,
        "created_by": "a", "created_at": "2026-01-01T00:00:00Z", "started_at": None, "finished_at": None,
        "result": {"model": "o/recs", "version": 2, "metrics": {"ndcg@10": 0.4},
                   "summary": {"winner": "ease", "candidates": [
                       {"recipe": "als", "metrics": {"ndcg@10": 0.3, "recall@10": 0.5}},
                       {"recipe": "ease", "ndcg": 0.4, "ndcg@10": 0.4, "recall@10": 0.6, "trials": 3,
                        "train_seconds": 1.5, "search_seconds": 4.0}]}},
    })
    results = job_results(job)
    assert results is not None
    assert [c.name for c in results.candidates] == ["als", "ease"]
    assert [c.chosen for c in results.candidates] == [False, True]
    assert results.chart_metric == "ndcg@10"
    assert results.metric_names == ["ndcg@10", "recall@10", "train_seconds"]  # no bare twins, counts or search time
    assert results.chart is not None and [b.best for b in results.chart.bars] == [False, True]
