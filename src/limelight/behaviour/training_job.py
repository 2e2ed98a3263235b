"""The body of the ``predict-behaviour/*`` recipes: data in, snapshots, fit, one artifact out."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from limelight.behaviour import artifact as artifacts
from limelight.behaviour import history as histories_mod
from limelight.behaviour.features import DAY_S, WINDOWS_DAYS, FeatureSpec, ProfileColumn
from limelight.behaviour.snapshots import Snapshot, Target, check_cutoff, iso, parse_moment, snapshot
from limelight.behaviour.training import BoostingParams, fit
from limelight.errors import CutoffOutOfRange, InvalidParams, ValidationFailed

if TYPE_CHECKING:
    from limelight.behaviour.params import BehaviourParams
    from limelight.recipes.base import JobContext, RecipeResult

# a longer silence never makes churn less likely: a prior that keeps small data from learning noise
CHURN_MONOTONE = {"days_since_last": 1}
MAX_PROFILE_CATEGORIES = 200  # a string column with more distinct values is an id, not a category


def windows_for(horizon_days: int) -> list[int]:
    """Counting windows: a week, a month, a quarter, and the horizon and twice it (a 180-day question
    is answered by half-year activity more than by last week's)."""
    return sorted({*WINDOWS_DAYS, horizon_days, 2 * horizon_days})


def check_cutoffs(params: BehaviourParams, start: int, end: int) -> tuple[int, list[int]]:
    """(validation cutoff, training cutoffs), each checked against the data's range ``start..end``."""
    horizon_s = params.horizon_days * DAY_S
    cutoff = parse_moment(params.cutoff, "params.cutoff") if params.cutoff is not None else end - horizon_s + 1
    check_cutoff(cutoff, params.horizon_days, start, end)
    if params.cutoffs:
        training = [parse_moment(c, f"params.cutoffs[{i}]") for i, c in enumerate(params.cutoffs)]
        for i, moment in enumerate(training):
            check_cutoff(moment, params.horizon_days, start, end, f"params.cutoffs[{i}]")
            if moment + horizon_s > cutoff:
                raise CutoffOutOfRange(
                    f"params.cutoffs[{i}] {iso(moment)}: a training cutoff's horizon must end by the validation "
                    f"cutoff {iso(cutoff)} (time split), so it must be no later than {iso(cutoff - horizon_s)}.",
                    details={"field": f"params.cutoffs[{i}]", "cutoff": iso(moment),
                             "latest_cutoff": iso(cutoff - horizon_s), "data_start": iso(start),
                             "data_end": iso(end)})
        return cutoff, sorted(set(training))
    step_s = (params.snapshot_step_days or params.horizon_days) * DAY_S
    candidates = [cutoff - horizon_s - k * step_s for k in range(params.training_snapshots)]
    training = [c for c in candidates if c >= start + horizon_s] or [c for c in candidates[:1] if c > start]
    if not training:
        raise CutoffOutOfRange(
            f"Too little history before the cutoff {iso(cutoff)} for a time split: training needs an earlier "
            f"cutoff at least {params.horizon_days} days before it, after the data's start {iso(start)}.",
            details={"field": "params.cutoff", "cutoff": iso(cutoff), "data_start": iso(start), "data_end": iso(end),
                     "earliest_cutoff": iso(start + horizon_s + 1), "horizon_days": params.horizon_days})
    return cutoff, sorted(training)


def train(ctx: JobContext, params: BehaviourParams, target: Target, event_type: str | None) -> RecipeResult:
    import pyarrow.parquet as pq

    from limelight.recipes.base import RecipeResult

    table = pq.read_table(ctx.dataset_path())
    if "timestamp" not in table.column_names:
        raise InvalidParams("Behaviour prediction needs a timestamp column in the interactions.",
                            details={"field": "dataset", "columns": table.column_names})
    live = ctx.live_events() if params.include_live_events else None
    if live is not None and live.rows:
        ctx.log(f"adding {len(live.rows)} live events")
    histories = histories_mod.from_table(table, live.rows if live is not None else None)
    if not histories.users.size:
        raise ValidationFailed("The interactions have no timestamped events.", details={"field": "dataset"})
    cutoff, training_cutoffs = check_cutoffs(params, histories.start, histories.end)
    if event_type is not None and not (histories.types == event_type).any():
        kinds = sorted(set(histories.types.tolist()))[:50]
        raise ValidationFailed(f"No event of type {event_type!r} in the interactions.",
                               details={"field": "params.event_type", "types": kinds})
    profiles, columns = _profiles(ctx)
    spec = FeatureSpec(windows_days=windows_for(params.horizon_days), has_types=histories.has_types(),
                       has_values=histories.has_values(), event_type=event_type, item_genres=_item_genres(ctx),
                       profile=columns)
    ctx.log(f"{histories.users.size} users, {histories.ts.size} events from {iso(histories.start)} to "
            f"{iso(histories.end)}; validation cutoff {iso(cutoff)}, training cutoffs "
            f"{', '.join(iso(c) for c in training_cutoffs)}")
    snapshots: list[Snapshot] = []
    for n, moment in enumerate([*training_cutoffs, cutoff]):
        ctx.check_cancelled()
        snap = snapshot(histories, moment, params.horizon_days, target, spec, profiles,
                        active_within_days=params.active_within_days)
        ctx.progress(5 + 40 * (n + 1) / (len(training_cutoffs) + 1),
                     f"snapshot {iso(moment)}: {len(snap.users)} users, {int(snap.labels.sum())} positive")
        snapshots.append(snap)
    boosting = BoostingParams(params.num_boost_round, params.learning_rate, params.num_leaves,
                              params.min_data_in_leaf, params.seed, params.calibration,
                              monotone=CHURN_MONOTONE if target == "churn" else None)
    fitted = fit(snapshots[:-1], snapshots[-1], spec.names(), spec.categorical(), boosting,
                 on_round=_round_progress(ctx))
    metrics = fitted.metrics
    ctx.metric({k: metrics[k] for k in ("roc_auc", "pr_auc", "brier", "baseline_roc_auc", "baseline_brier")
                if metrics.get(k) is not None}, step=metrics["best_iteration"])
    ctx.log(f"validation: roc_auc={metrics['roc_auc']} (recency baseline {metrics['baseline_roc_auc']}), "
            f"brier={metrics['brier']} (baseline {metrics['baseline_brier']})")
    metadata = {
        "target": target, "event_type": event_type, "horizon_days": params.horizon_days,
        "feature_spec": spec.to_json(), "feature_names": spec.names(), "calibration": fitted.calibrator.to_json(),
        "recency_prior": fitted.prior.to_json(),
        "population_rate": fitted.population_rate, "typical": _json_numbers(fitted.typical),
        "history_start": histories.start, "history_end": histories.end, "cutoff": cutoff,
        "training_cutoffs": training_cutoffs, "active_within_days": params.active_within_days,
        "reference": "as_of, else the wall clock within one horizon after history_end, else history_end + 1 s; "
                     "features use events strictly before it",
        "events_max_seq": live.max_seq if live is not None else 0,
        "events_dataset": live.dataset if live is not None else None, "metrics": _json_numbers(metrics)}
    ctx.progress(95, "saving the artifact")
    model_text = fitted.booster.model_to_string(num_iteration=fitted.booster.best_iteration or None)
    artifacts.save(ctx.output_path(".npz"), artifacts.BehaviourArtifact(metadata, model_text, histories, profiles))
    example = {"user_id": str(histories.users[0])}
    signature = {"inputs": [{"name": "request", "dtype": "object", "shape": [-1], "example": example}],
                 "outputs": [{"name": "probability", "dtype": "float64", "shape": [-1]}],
                 "target": target, "features": spec.names()}
    result_metrics = {**metrics, "cutoff": iso(cutoff), "horizon_days": params.horizon_days,
                      "population_rate": round(fitted.population_rate, 6)}
    limitations = [
        "A user with no event before the reference time gets the population rate and `no_history: true`.",
        *([f"Trained only on users with an event within {params.active_within_days} days before each cutoff: "
           "scores for users idle longer are extrapolations."] if params.active_within_days else []),
        f"Probabilities are calibrated on the last {params.horizon_days}-day horizon before {iso(cutoff)}: "
        "retrain when behaviour shifts (a new catalog, a price change).",
        "The reasons are the features that moved this user's score most (LightGBM contributions), not causes."]
    return RecipeResult(runtime="behaviour", format="npz", metrics=result_metrics, signature=signature,
                        params=params.model_dump(mode="json"), gate_metric="roc_auc",
                        example={"verb": "predict", "body": example}, limitations=limitations)


def _round_progress(ctx: JobContext) -> Any:
    def on_round(iteration: int, rounds: int) -> None:
        if iteration % 10 == 0:
            ctx.check_cancelled()
            ctx.progress(50 + 40 * iteration / rounds, f"boosting round {iteration}")

    return on_round


def _json_numbers(values: dict[str, Any]) -> dict[str, Any]:
    """JSON has no NaN: an undefined number is stored as null."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in values.items()}


def _profiles(ctx: JobContext) -> tuple[dict[str, dict[str, Any]], list[ProfileColumn]]:
    """The ``users`` dataset as {user_id: {column: value}} and its usable columns."""
    if not ctx.has_dataset("users"):
        return {}, []
    import pyarrow.parquet as pq
    import pyarrow.types as pat

    table = pq.read_table(ctx.dataset_path("users"))
    columns: list[ProfileColumn] = []
    for name in table.column_names:
        if name == "user_id":
            continue
        arrow_type = table.column(name).type
        if pat.is_integer(arrow_type) or pat.is_floating(arrow_type) or pat.is_boolean(arrow_type):
            columns.append(ProfileColumn(name))
        elif pat.is_string(arrow_type) or pat.is_large_string(arrow_type):
            categories = sorted({str(v) for v in table.column(name).to_pylist() if v is not None})
            if len(categories) <= MAX_PROFILE_CATEGORIES:
                columns.append(ProfileColumn(name, categories))
                continue
            ctx.log(f"users column {name!r} has {len(categories)} distinct values; left out", level="warning")
        else:
            ctx.log(f"users column {name!r} ({arrow_type}) is neither a number nor a category; left out",
                    level="warning")
    rows = table.select(["user_id", *[c.name for c in columns]]).to_pylist()
    profiles = {str(row.pop("user_id")): {k: (float(v) if isinstance(v, bool) else v) for k, v in row.items()}
                for row in rows}
    ctx.log(f"users profile: {len(profiles)} users, columns {[c.name for c in columns]}")
    return profiles, columns


def _item_genres(ctx: JobContext) -> dict[str, list[str]] | None:
    if not ctx.has_dataset("items"):
        return None
    import pyarrow.parquet as pq

    table = pq.read_table(ctx.dataset_path("items"))
    if "genres" not in table.column_names:
        return None
    return {str(item): [str(g) for g in (genres or [])]
            for item, genres in zip(table.column("item_id").to_pylist(), table.column("genres").to_pylist(),
                                    strict=True)}
