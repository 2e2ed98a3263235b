"""Online experiments: start a split of a model's traffic between aliases, read each variant's results
with confidence intervals, and decide (promote the winner, keep the control, roll a variant back).

The split is routing (``serving.engine`` reads it through the model directory, ``split_for``), the
exposures are written by the API process (``exposures``), and the outcomes are the org's events that
cite an exposure's ``request_id``; everything here is computed from those rows when asked, so a late
event still counts and nothing is counted twice. Every decision is audited, whether a maintainer or
the workers' automatic check (``decide_due``) took it.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from limelight.audit import service as audit
from limelight.auth.delegation import acting_for
from limelight.auth.principal import Permission, Principal, authorize
from limelight.db.base import utcnow
from limelight.db.models import Experiment, Model
from limelight.errors import ExperimentRunning, ExperimentStopped, LimelightError, NotFound, ValidationFailed
from limelight.experiments import repository, stats
from limelight.experiments.repository import VariantRow
from limelight.registry import repository as models
from limelight.registry import service as registry
from limelight.schemas.experiments import (
    DecisionRead,
    ExperimentCreate,
    ExperimentRead,
    GuardrailSpec,
    Interval,
    Plan,
    SeriesPoint,
    VariantResult,
    VsControl,
)
from limelight.serving.ports import ExperimentSplit

log = logging.getLogger(__name__)
DEFAULT_MIN_SAMPLES = 1000
MAX_PLANNED_SAMPLES = 100_000_000
GUARDRAIL_MIN_REQUESTS = 100  # a guardrail reads error rates and p99s only past this many requests
_LABELS = {"ctr": "CTR", "completion_rate": "completion rate", "watch_time": "mean watch time"}


# ---- routing --------------------------------------------------------------------------------

def split_for(session: Session, model_id: str, aliases: dict[str, int]) -> ExperimentSplit | None:
    """The running experiment's split as serving needs it; a variant whose alias is gone is left out."""
    found = repository.running_for_model(session, model_id)
    if found is None:
        return None
    present = [v for v in found.variants if v["alias"] in aliases]
    if not present:
        return None
    return ExperimentSplit(id=found.id, variants=tuple(v["name"] for v in present),
                           versions=tuple(aliases[v["alias"]] for v in present),
                           weights=tuple(float(v["weight"]) for v in present), sticky_field=found.sticky_field)


# ---- lifecycle ------------------------------------------------------------------------------

def _plan(body: ExperimentCreate) -> Plan | None:
    if body.baseline_rate is None or body.min_detectable_lift is None:
        return None
    n = stats.sample_size_per_variant(body.baseline_rate, body.min_detectable_lift, alpha=body.alpha,
                                      power=body.power, variants=len(body.variants))
    if n > MAX_PLANNED_SAMPLES:
        raise ValidationFailed(f"Detecting a lift of {body.min_detectable_lift} needs {n} impressions per variant; "
                               f"plan for a larger lift (at most {MAX_PLANNED_SAMPLES} per variant).",
                               details={"fields": [{"field": "min_detectable_lift", "reason": "too small"}],
                                        "samples_per_variant": n})
    return Plan(baseline_rate=body.baseline_rate, min_detectable_lift=body.min_detectable_lift, power=body.power,
                samples_per_variant=n)


def start(session: Session, principal: Principal, org: str, name: str, body: ExperimentCreate) -> ExperimentRead:
    model = registry.own_model(session, principal, org, name, Permission.org_maintain, for_update=True)
    aliases = models.aliases(session, model.id)
    missing = [v.alias for v in body.variants if v.alias not in aliases]
    if missing:
        raise ValidationFailed(
            f"{org}/{name} has no alias {', '.join(repr(a) for a in missing)}; set one first "
            f"(`limelight models alias {org}/{name} ALIAS VERSION`). Aliases: {', '.join(sorted(aliases)) or 'none'}.",
            details={"fields": [{"field": "variants", "reason": f"unknown alias {a}"} for a in missing]})
    running = repository.running_for_model(session, model.id)
    if running is not None:
        raise ExperimentRunning(f"Experiment {running.name!r} is already running on {org}/{name}; stop it first.",
                                details={"experiment": running.id})
    plan = _plan(body)
    min_samples = body.min_samples or (plan.samples_per_variant if plan else DEFAULT_MIN_SAMPLES)
    row = Experiment(org_id=principal.org_id, model_id=model.id, name=body.name, status="running",
                     variants=[v.model_dump() for v in body.variants], metric=body.metric, alpha=body.alpha,
                     min_samples=min_samples, plan=plan.model_dump() if plan else None, sticky_field=body.sticky_field,
                     guardrails=body.guardrails.model_dump(), auto_decide=body.auto_decide,
                     created_by=principal.username)
    session.add(row)
    session.flush()
    audit.record(session, principal, "experiment.start", "experiment", f"{org}/{name}/{row.id}",
                 {"name": body.name, "variants": row.variants, "metric": body.metric, "alpha": body.alpha,
                  "auto_decide": body.auto_decide})
    return _read(session, row, model, org, with_results=False)


def list_for_model(session: Session, principal: Principal, org: str, name: str) -> list[ExperimentRead]:
    model = registry.own_model(session, principal, org, name, Permission.org_read)
    return [_read(session, row, model, org, with_results=False) for row in repository.for_model(session, model.id)]


def list_for_org(session: Session, principal: Principal, org: str) -> list[ExperimentRead]:
    """The org's experiments, newest first (the console's list)."""
    authorize(principal, Permission.org_read, org)
    rows = repository.for_org(session, principal.org_id)
    by_id = {m.id: m for m in session.scalars(select(Model).where(Model.id.in_({r.model_id for r in rows})))}
    return [_read(session, row, by_id[row.model_id], org, with_results=False) for row in rows]


def get(session: Session, principal: Principal, org: str, name: str, experiment_id: str) -> ExperimentRead:
    model = registry.own_model(session, principal, org, name, Permission.org_read)
    return _read(session, _experiment(session, model, org, experiment_id), model, org, with_results=True)


def stop(session: Session, principal: Principal, org: str, name: str, experiment_id: str) -> ExperimentRead:
    """Ends the split: calls go back to the deployment, the production alias or the latest version."""
    model = registry.own_model(session, principal, org, name, Permission.org_maintain, for_update=True)
    row = _experiment(session, model, org, experiment_id, for_update=True)
    if row.status != "running":
        raise ExperimentStopped(f"Experiment {row.name!r} has already stopped.", details={"experiment": row.id})
    _end(session, principal, row, model, org, stats.Decision("keep_control", None, "stopped by hand"), "stop")
    return _read(session, row, model, org, with_results=True)


def decide(session: Session, principal: Principal, org: str, name: str, experiment_id: str, *,
           dry_run: bool) -> ExperimentRead:
    """Apply the decision rule now (``dry_run``: only report it)."""
    model = registry.own_model(session, principal, org, name, Permission.org_maintain, for_update=True)
    row = _experiment(session, model, org, experiment_id, for_update=True)
    if row.status != "running":
        raise ExperimentStopped(f"Experiment {row.name!r} has already stopped.", details={"experiment": row.id})
    decision = _decision(row, _results(session, row))
    if not dry_run:
        _apply(session, principal, row, model, org, decision)
    return _read(session, row, model, org, with_results=True)


def decide_due(session: Session, request_id: str = "experiments") -> list[str]:
    """The workers' periodic check: apply the rule to every running experiment with ``auto_decide``,
    acting as the member who started it (as they are now). Returns what it did, for the log."""
    done: list[str] = []
    for row in repository.running_auto(session):
        model = session.get(Model, row.model_id)
        if model is None:
            continue
        try:
            principal = acting_for(session, row.org_id, row.created_by, request_id)
            decision = _decision(row, _results(session, row))
            if decision.action != "wait":
                _apply(session, principal, row, model, principal.org_name, decision)
                done.append(f"{row.id}:{decision.action}:{decision.variant or ''}")
        except LimelightError as exc:  # e.g. the starter left the org: the experiment waits for a human
            log.warning("deciding experiment %s failed: %s", row.id, exc.message)
    return done


# ---- decisions --------------------------------------------------------------------------------

def _active(row: Experiment) -> list[dict[str, Any]]:
    return [v for v in row.variants if float(v["weight"]) > 0]


def _stats_of(row: Experiment, results: dict[str, VariantRow]) -> list[stats.VariantStats]:
    out = []
    for variant in _active(row):
        r = results.get(variant["name"], VariantRow())
        successes = r.completions if row.metric == "completion_rate" else r.clicks
        out.append(stats.VariantStats(name=variant["name"], impressions=r.impressions, clicks=successes,
                                      errors=r.server_errors, requests=r.requests, p99_latency_ms=r.p99_latency_ms,
                                      total=r.watch_sum, total_sq=r.watch_sq))
    return out


def _decision(row: Experiment, results: dict[str, VariantRow]) -> stats.Decision:
    variants = _stats_of(row, results)
    if len(variants) < 2:
        return stats.Decision("keep_control", None, "only the control is left")
    rails = stats.Guardrails(max_error_rate=float(row.guardrails.get("max_error_rate", 0.01)),
                             max_p99_ms=row.guardrails.get("max_p99_ms"),
                             min_requests=min(GUARDRAIL_MIN_REQUESTS, row.min_samples))
    return stats.decide(variants, planned_n=row.min_samples, alpha=row.alpha, guardrails=rails,
                        metric="mean" if row.metric == "watch_time" else "proportion", label=_LABELS[row.metric])


def _apply(session: Session, principal: Principal, row: Experiment, model: Model, org: str,
           decision: stats.Decision) -> None:
    if decision.action == "wait":
        return
    if decision.action == "rollback":
        row.variants = [{**v, "weight": 0.0} if v["name"] == decision.variant else v for v in row.variants]
        audit.record(session, principal, "experiment.rollback", "experiment", f"{org}/{model.name}/{row.id}",
                     {"variant": decision.variant, "reason": decision.reason})
        if len(_active(row)) < 2:
            _end(session, principal, row, model, org, stats.Decision("keep_control", None, decision.reason), "decide")
        return
    if decision.action == "promote":
        alias = next(v["alias"] for v in row.variants if v["name"] == decision.variant)
        version = models.aliases(session, model.id).get(alias)
        if version is None:
            raise ValidationFailed(f"The winner's alias {alias!r} no longer exists; set it again, then decide.")
        registry.set_alias(session, principal, org, model.name, "production", version,
                           details={"experiment": row.id, "variant": decision.variant})
    _end(session, principal, row, model, org, decision, "decide")


def _end(session: Session, principal: Principal, row: Experiment, model: Model, org: str,
         decision: stats.Decision, how: str) -> None:
    row.status, row.ended_at = "stopped", utcnow()
    row.decision = {"action": decision.action, "variant": decision.variant, "reason": decision.reason,
                    "by": principal.actor, "at": row.ended_at.isoformat()}
    audit.record(session, principal, f"experiment.{how}", "experiment", f"{org}/{model.name}/{row.id}",
                 {"action": decision.action, "variant": decision.variant, "reason": decision.reason})


# ---- reading ----------------------------------------------------------------------------------

def _experiment(session: Session, model: Model, org: str, experiment_id: str, *,
                for_update: bool = False) -> Experiment:
    row = repository.get(session, model.id, experiment_id, for_update=for_update)
    if row is None:
        raise NotFound(f"Experiment {experiment_id} of {org}/{model.name} not found.")
    return row


def _results(session: Session, row: Experiment) -> dict[str, VariantRow]:
    return repository.variant_rows(session, row.org_id, row.id)


def _read(session: Session, row: Experiment, model: Model, org: str, *, with_results: bool) -> ExperimentRead:
    read = ExperimentRead(
        id=row.id, org=org, model=f"{org}/{model.name}", name=row.name, status=row.status,
        metric=row.metric, alpha=row.alpha, min_samples=row.min_samples,
        sticky_field=row.sticky_field, guardrails=GuardrailSpec(**row.guardrails), auto_decide=row.auto_decide,
        plan=Plan(**row.plan) if row.plan else None,
        created_at=row.created_at, created_by=row.created_by, ended_at=row.ended_at,
        decision=DecisionRead(**row.decision) if row.decision else None)
    if not with_results:
        read.variants = [_variant(v, VariantRow(), None) for v in row.variants]
        return read
    results = _results(session, row)
    active = _stats_of(row, results)
    control = active[0] if active else None
    level = stats.per_comparison_alpha(row.alpha, max(len(active), 2))
    for variant in row.variants:
        mine = next((s for s in active if s.name == variant["name"]), None)
        versus = None
        if control is not None and mine is not None and mine is not control:
            c = stats.compare(control, mine, level, "mean" if row.metric == "watch_time" else "proportion")
            versus = VsControl(difference=_finite(c.difference), low=_finite(c.low), high=_finite(c.high),
                               p_value=c.p_value, significant=c.significant)
        read.variants.append(_variant(variant, results.get(variant["name"], VariantRow()), versus))
    if row.status == "running":
        decision = _decision(row, results)
        read.recommendation = DecisionRead(action=decision.action, variant=decision.variant, reason=decision.reason)
    start_ts = row.created_at.timestamp()
    end_ts = row.ended_at.timestamp() if row.ended_at else None
    read.attributed_events = repository.attributed_events(session, row.org_id, row.id)
    read.unattributed_events = repository.unattributed_events(session, row.org_id, start_ts, end_ts)
    read.series = [SeriesPoint(start=datetime.fromtimestamp(hour, UTC), variant=variant, impressions=n, clicks=c)
                   for hour, variant, n, c in repository.hourly(session, row.org_id, row.id)]
    return read


def _variant(spec: dict[str, Any], r: VariantRow, versus: VsControl | None) -> VariantResult:
    return VariantResult(
        name=spec["name"], alias=spec["alias"], weight=float(spec["weight"]), requests=r.requests,
        impressions=r.impressions, server_errors=r.server_errors,
        error_rate=r.server_errors / r.requests if r.requests else None, p99_latency_ms=r.p99_latency_ms,
        clicks=r.clicks, completions=r.completions,
        ctr=_interval(stats.proportion_interval(r.clicks, r.impressions)),
        completion_rate=_interval(stats.proportion_interval(r.completions, r.impressions)),
        watch_time_s=_interval(stats.mean_interval(r.impressions, r.watch_sum, r.watch_sq)),
        vs_control=versus)


def _interval(found: stats.Interval) -> Interval:
    return Interval(estimate=_finite(found.estimate), low=_finite(found.low), high=_finite(found.high))


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
