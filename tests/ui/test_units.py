"""The console's pure parts, without a browser: card sanitising, charts, the recipe form, monitoring charts."""

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


def _model_view(canary: bool):  # type: ignore[no-untyped-def]
    from limelight.schemas.monitoring import ModelMonitoring

    point = {"start": "2027-01-15T08:00:00Z", "requests": 60, "client_errors": 1, "server_errors": 2,
             "p50_ms": 5.0, "p99_ms": 40.0}
    stats = {"requests": 60, "client_errors": 1, "server_errors": 2, "availability": 0.97, "error_rate": 0.05,
             "requests_per_s": 1.0}
    return ModelMonitoring.model_validate({
        "org": "o", "name": "m", "task": "classify", "window": "1h", "step_s": 60, "since": "2027-01-15T07:01:00Z",
        "until": "2027-01-15T08:01:00Z", "canary": canary, "stats": stats, "points": [point, point],
        "versions": [{"version": v, "stats": stats, "points": [point, point]} for v in (1, 2)],
    })


def test_charts_split_by_version_only_while_a_canary_is_live():
    from limelight.ui.monitoring_charts import model_charts

    plain, canary = model_charts(_model_view(False)), model_charts(_model_view(True))
    assert [len(c.lines) for c in plain] == [1, 2, 2]  # requests; p50 + p99; 4xx + 5xx
    assert [[line.name for line in c.lines] for c in canary] == [["v1", "v2"]] * 3
    assert plain[0].lines[0].last_text == "1 req/s"  # 60 requests in a 60 s step


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


def test_a_version_comparison_knows_which_way_is_better_and_leaves_gaps_alone():
    from datetime import UTC, datetime

    from limelight.schemas.registry import ModelVersionRead
    from limelight.ui.version_comparison import compare, lower_is_better

    def version(n: int, metrics: dict) -> ModelVersionRead:  # type: ignore[type-arg]
        return ModelVersionRead.model_construct(version=n, metrics=metrics, aliases=[],
                                                created_at=datetime.now(UTC))

    c = compare([version(1, {"ndcg@10": 0.40, "brier": 0.02, "curve": [1, 2], "flag": True}),
                 version(2, {"ndcg@10": 0.42, "brier": 0.03, "extra": 5.0})])
    rows = {r.metric: r for r in c.rows}
    assert list(rows) == ["ndcg@10", "brier", "extra"]  # headline metrics first; lists and booleans left out
    assert rows["ndcg@10"].cells[1].delta == pytest.approx(0.02) and rows["ndcg@10"].cells[1].better is True
    assert rows["brier"].lower_is_better and rows["brier"].cells[1].better is False
    assert rows["extra"].cells[0].value is None and rows["extra"].cells[1].delta is None
    assert [chart.title for chart in c.charts] == ["ndcg@10", "brier"]
    assert [b.best for b in c.charts[1].bars] == [True, False]  # the lower Brier is the better bar
    assert lower_is_better("val_loss") and lower_is_better("ECE") and not lower_is_better("roc_auc")
