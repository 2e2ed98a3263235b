"""Forgetting one end user everywhere: events, rows of every dataset version, and the models trained on them.

Dataset versions are immutable for everyone except this legal erasure: the affected Parquet files
are rewritten without the user's rows, the version points at the new blob, the old blob is
deleted, and every model with a version trained on an affected dataset is flagged for retraining.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from limelight.audit import service as audit
from limelight.auth.principal import Permission, Principal, authorize
from limelight.datasets import repository as datasets_repo
from limelight.db.models import Dataset, DatasetVersion, Model, ModelVersion
from limelight.events import service as events
from limelight.schemas.events import ForgetResult
from limelight.server.state import AppState

USER_KINDS = ("interactions", "users")


def forget_end_user(state: AppState, principal: Principal, org: str, user_id: str) -> ForgetResult:
    authorize(principal, Permission.org_maintain, org)
    with state.db.transaction(write=False) as session:
        versions = list(session.execute(
            select(DatasetVersion.id, DatasetVersion.blob_sha256).join(Dataset, Dataset.id == DatasetVersion.dataset_id)
            .where(Dataset.org_id == principal.org_id, Dataset.kind.in_(USER_KINDS))).all())
    rewritten: dict[str, tuple[str, int, int, int]] = {}
    for version_id, sha in versions:
        result = _rewrite_without(state, state.artifacts.local_path(sha), user_id)
        if result is not None:
            rewritten[version_id] = result
    with state.db.transaction() as session:
        deleted_events = events.forget_events(session, principal, org, user_id)
        removed_rows, old_blobs = 0, []
        for version_id, (new_sha, size, rows, removed) in rewritten.items():
            row = session.get(DatasetVersion, version_id)
            if row is None:
                continue
            old_blobs.append(row.blob_sha256)
            row.blob_sha256, row.size_bytes, row.rows = new_sha, size, rows
            row.profile = dict(row.profile) | {"rows": rows, "erasures": int(row.profile.get("erasures", 0)) + 1}
            removed_rows += removed
        flagged = _flag_models(session, principal.org_id, set(rewritten))
        audit.record(session, principal, "end_user.forget", "end_user", f"{org}/{user_id}",
                     {"events_deleted": deleted_events, "dataset_rows_deleted": removed_rows,
                      "dataset_versions_rewritten": len(rewritten), "models_flagged": flagged})
        still_used = datasets_repo.all_blob_refs(session)
    for sha in old_blobs:
        if sha not in still_used:
            state.artifacts.delete(sha)
    return ForgetResult(user_id=user_id, events_deleted=deleted_events, dataset_rows_deleted=removed_rows,
                        models_flagged=[f"{org}/{name}" for name in flagged])


def _rewrite_without(state: AppState, path: Path, user_id: str) -> tuple[str, int, int, int] | None:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    if "user_id" not in table.column_names:
        return None
    keep = pc.not_equal(table.column("user_id"), user_id)
    kept = table.filter(pc.fill_null(keep, True))
    removed = table.num_rows - kept.num_rows
    if removed == 0:
        return None
    with state.artifacts.stage(suffix=".parquet") as staged:
        pq.write_table(kept, staged.path, compression="zstd")
        ref = staged.commit()
    return ref.sha256, ref.size_bytes, kept.num_rows, removed


def _flag_models(session, org_id: str, dataset_version_ids: set[str]) -> list[str]:
    """Every model of the org with a version trained on affected data, plus every recommender
    (their artifacts embed user ids from events too)."""
    query = select(Model).where(Model.org_id == org_id)
    flagged = []
    for model in session.scalars(query).all():
        trained_on = set(session.scalars(select(ModelVersion.dataset_version_id)
                                         .where(ModelVersion.model_id == model.id)).all())
        if trained_on & dataset_version_ids or model.task == "recommend":
            model.needs_retraining = True
            flagged.append(model.name)
    return sorted(flagged)
