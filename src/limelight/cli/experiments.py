"""``limelight experiments start|list|show|stop|decide``: A/B/n tests between a model's aliases."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from limelight.cli.connection import ApiKeyOpt, JsonOpt, OrgOpt, UrlOpt, connect
from limelight.cli.models import RefArg, model_ref
from limelight.cli.output import print_json, print_record, print_table
from limelight.schemas.experiments import ExperimentRead, Metric

experiments_app = typer.Typer(help="Online experiments: split a model's traffic between aliases and "
                                   "measure clicks, completions and watch time per variant.", no_args_is_help=True)
IdArg = Annotated[str, typer.Argument(help="the experiment id (`limelight experiments list MODEL`)")]


def parse_variant(raw: str) -> dict[str, Any]:
    """``NAME=ALIAS[:WEIGHT]``, weight 50 when absent."""
    name, sep, rest = raw.partition("=")
    alias, _, weight = rest.partition(":")
    try:
        if not sep or not name or not alias:
            raise ValueError
        return {"name": name, "alias": alias, "weight": float(weight) if weight else 50.0}
    except ValueError as exc:
        raise typer.BadParameter(f"{raw!r} is not NAME=ALIAS[:WEIGHT]", param_hint="--variant") from exc


@experiments_app.command("start")
def start(
    ref: RefArg,
    name: Annotated[str, typer.Option("--name", "-n", help="the experiment's name")],
    variant: Annotated[list[str], typer.Option("--variant", "-v", help="NAME=ALIAS[:WEIGHT]; the first is the "
                                                                       "control; repeat for each variant")],
    metric: Annotated[str, typer.Option(help="primary metric: ctr, completion_rate or watch_time")] = "ctr",
    alpha: Annotated[float, typer.Option(help="two-sided significance level")] = 0.05,
    min_samples: Annotated[int | None, typer.Option(help="impressions per variant before deciding (default: "
                                                         "planned from --baseline-rate and --min-detectable-lift, "
                                                         "else 1000)")] = None,
    baseline_rate: Annotated[float | None, typer.Option(help="expected control rate, e.g. 0.10")] = None,
    min_detectable_lift: Annotated[float | None, typer.Option(help="smallest absolute lift to detect, "
                                                                   "e.g. 0.02")] = None,
    power: Annotated[float, typer.Option(help="chance to detect that lift")] = 0.8,
    sticky_field: Annotated[str, typer.Option(help="request field naming the end user")] = "user_id",
    max_error_rate: Annotated[float, typer.Option(help="guardrail: server error rate")] = 0.01,
    max_p99_ms: Annotated[float | None, typer.Option(help="guardrail: p99 latency in ms")] = None,
    auto_decide: Annotated[bool, typer.Option(help="let the workers decide and act (audited)")] = False,
    org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Start splitting a model's traffic between aliases, sticky per end user."""
    if metric not in Metric.__args__:  # type: ignore[attr-defined]
        raise typer.BadParameter(f"{metric!r} is not one of {', '.join(Metric.__args__)}",  # type: ignore[attr-defined]
                                 param_hint="--metric")
    spec = {"name": name, "variants": [parse_variant(v) for v in variant], "metric": metric, "alpha": alpha,
            "min_samples": min_samples, "baseline_rate": baseline_rate, "min_detectable_lift": min_detectable_lift,
            "power": power, "sticky_field": sticky_field, "auto_decide": auto_decide,
            "guardrails": {"max_error_rate": max_error_rate, "max_p99_ms": max_p99_ms}}
    with connect(url, api_key) as client:
        _show(client.experiments.start(model_ref(client, ref, org), spec), json_out)


@experiments_app.command("list")
def list_(ref: RefArg, org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None,
          api_key: ApiKeyOpt = None) -> None:
    """A model's experiments, newest first."""
    with connect(url, api_key) as client:
        found = client.experiments.list(model_ref(client, ref, org))
    if json_out:
        print_json(found)
        return
    print_table(found, [("id", lambda e: e.id), ("name", lambda e: e.name), ("status", lambda e: e.status),
                        ("metric", lambda e: e.metric),
                        ("variants", lambda e: ", ".join(f"{v.name}={v.alias}:{v.weight:g}" for v in e.variants)),
                        ("started", lambda e: e.created_at),
                        ("decision", lambda e: e.decision.action if e.decision else None)],
                empty="No experiments on this model yet.")


@experiments_app.command("show")
def show(ref: RefArg, experiment_id: IdArg, org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None,
         api_key: ApiKeyOpt = None) -> None:
    """Per-variant results with 95% intervals and what the decision rule says now."""
    with connect(url, api_key) as client:
        _show(client.experiments.get(model_ref(client, ref, org), experiment_id), json_out)


@experiments_app.command("stop")
def stop(ref: RefArg, experiment_id: IdArg, org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None,
         api_key: ApiKeyOpt = None) -> None:
    """End the split: calls go back to the deployment, production, or the latest version."""
    with connect(url, api_key) as client:
        _show(client.experiments.stop(model_ref(client, ref, org), experiment_id), json_out)


@experiments_app.command("decide")
def decide(ref: RefArg, experiment_id: IdArg,
           dry_run: Annotated[bool, typer.Option(help="only say what the rule decides")] = False,
           org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Apply the decision rule: promote the winner to production, keep the control, or roll back."""
    with connect(url, api_key) as client:
        _show(client.experiments.decide(model_ref(client, ref, org), experiment_id, dry_run=dry_run), json_out)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def _show(found: ExperimentRead, json_out: bool) -> None:
    if json_out:
        print_json(found)
        return
    verdict = found.decision or found.recommendation
    print_record([("id", found.id), ("status", found.status), ("metric", found.metric), ("alpha", found.alpha),
                  ("min samples", found.min_samples),
                  ("plan", f"{found.plan.samples_per_variant} per variant detect +{found.plan.min_detectable_lift:g} "
                           f"over {found.plan.baseline_rate:g} with power {found.plan.power:g}" if found.plan else None),
                  ("auto decide", found.auto_decide),
                  ("decision" if found.decision else "rule says", f"{verdict.action} {verdict.variant or ''} – "
                                                                  f"{verdict.reason}" if verdict else None),
                  ("unattributed events", found.unattributed_events)],
                 title=f"Experiment {found.name} on {found.model}")
    print_table(found.variants, [
        ("variant", lambda v: v.name), ("alias", lambda v: v.alias), ("weight", lambda v: v.weight),
        ("impressions", lambda v: v.impressions),
        ("CTR [95% CI]", lambda v: f"{_pct(v.ctr.estimate)} [{_pct(v.ctr.low)}, {_pct(v.ctr.high)}]"),
        ("completion", lambda v: _pct(v.completion_rate.estimate)),
        ("watch s", lambda v: v.watch_time_s.estimate),
        ("vs control", lambda v: v.vs_control.difference if v.vs_control else None),
        ("p", lambda v: v.vs_control.p_value if v.vs_control else None),
        ("errors", lambda v: v.server_errors), ("p99 ms", lambda v: v.p99_latency_ms)])


def register(app: typer.Typer) -> None:
    app.add_typer(experiments_app, name="experiments")
