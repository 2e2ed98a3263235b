"""Batch scoring: every user the model knows, ranked by probability (most likely first).

The ranked list is what a retention team works from: the highest churn risk first, with the
strongest reason in words. ``:score`` answers the top of it as JSON; the
``predict-behaviour/score-users`` job (``score_to_dataset``) ranks everyone on a worker and stores the
list as a ``users`` dataset version (``user_id`` is its key), which downloads as CSV or Parquet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from limelight.behaviour.runtime import BehaviourRuntime

if TYPE_CHECKING:
    from limelight.behaviour.params import ScoreUsersParams
    from limelight.recipes.base import JobContext, RecipeResult

CHUNK = 512
COLUMNS = ("rank", "user_id", "probability", "top_reason", "reasons")


def ranked(runtime: BehaviourRuntime, as_of: int | None = None, limit: int | None = None,
           on_chunk: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
    """Every known user with history before ``as_of``, most likely first (ties by user id);
    ``on_chunk(done, total)`` after each chunk of users (progress, cancellation)."""
    users = runtime.known_users()
    moment = runtime.default_as_of() if as_of is None else as_of
    scored: list[dict[str, Any]] = []
    for start in range(0, len(users), CHUNK):
        chunk = users[start:start + CHUNK]
        scored += [p for p in runtime.predict_users(chunk, [moment] * len(chunk)) if not p["no_history"]]
        if on_chunk is not None:
            on_chunk(start + len(chunk), len(users))
    scored.sort(key=lambda p: (-p["probability"], p["user_id"]))
    rows = [{"rank": rank, "user_id": p["user_id"], "probability": p["probability"],
             "top_reason": p["reasons"][0]["text"] if p["reasons"] else "",
             "reasons": "; ".join(r["text"] for r in p["reasons"])}
            for rank, p in enumerate(scored, start=1)]
    return rows[:limit] if limit is not None else rows



def ranked_table(rows: list[dict[str, Any]]) -> Any:
    """The ranked list as an Arrow table with the columns and types a users dataset stores."""
    import pyarrow as pa

    return pa.Table.from_pylist([{c: row.get(c) for c in COLUMNS} for row in rows], schema=pa.schema(
        [("rank", pa.int64()), ("user_id", pa.string()), ("probability", pa.float64()),
         ("top_reason", pa.string()), ("reasons", pa.string())]))


def score_to_dataset(ctx: JobContext, params: ScoreUsersParams) -> RecipeResult:
    """The job's body: load the fixed version in this child, rank, and write the list through the same
    ingest an upload goes through (so its columns and profile are those of any users dataset)."""
    import pyarrow.parquet as pq

    from limelight.behaviour.snapshots import parse_moment
    from limelight.datasets.ingest import ingest
    from limelight.recipes.base import DatasetOutput, RecipeResult
    from limelight.runtimes.base import LoadContext

    model = ctx.model_input()
    ctx.progress(5, f"loading {model.ref} version {model.version}")
    runtime = BehaviourRuntime.load(model.artifact, model.runtime_params,
                                    LoadContext(org=ctx.org, services=model.services))
    as_of = runtime.default_as_of() if params.as_of is None else parse_moment(params.as_of, "params.as_of")

    def on_chunk(done: int, total: int) -> None:
        ctx.check_cancelled()
        ctx.progress(10 + 80 * done / max(total, 1), f"scored {done} of {total} users")

    rows = [r for r in ranked(runtime, as_of, on_chunk=on_chunk) if r["probability"] >= params.min_probability]
    total = len(rows)
    rows = rows[: params.limit] if params.limit is not None else rows
    if not rows:
        from limelight.errors import ValidationFailed

        raise ValidationFailed(f"No user of {model.ref} version {model.version} has history before as_of "
                               f"and probability >= {params.min_probability}: nothing to store.",
                               details={"field": "params.as_of"})
    ranked_path = ctx.workdir / "ranked.parquet"
    pq.write_table(ranked_table(rows), ranked_path)
    ctx.progress(92, f"storing {len(rows)} users as {params.output_dataset}")
    result = ingest(ranked_path, kind="users", filename=ranked_path.name, dest=ctx.output_path(".parquet"))
    summary = {"users_scored": total, "users_kept": len(rows), "as_of": as_of,
               "top": [{c: r[c] for c in ("rank", "user_id", "probability", "top_reason")} for r in rows[:5]]}
    ctx.log(f"ranked {total} users of {model.ref} version {model.version} at as_of {as_of}; kept {len(rows)}")
    return RecipeResult(
        runtime="", format="parquet", metrics={"users_scored": total, "users_kept": len(rows)},
        params=params.model_dump(mode="json"), summary=summary,
        dataset=DatasetOutput(
            name=params.output_dataset, kind="users", rows=result.rows,
            columns=[{"name": c.name, "type": c.type} for c in result.columns], profile=result.profile,
            source_filename=f"{model.ref.replace('/', '-')}-v{model.version}-scores.parquet",
            description=f"users ranked by {model.ref} version {model.version} as of {as_of}"))
