"""Which blobs the metadata still points at: every column holding a blob's sha256, in every org."""

from __future__ import annotations

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from limelight.db.models.datasets import DatasetVersion
from limelight.db.models.registry import ModelVersion


def referenced_blobs(session: Session) -> set[str]:
    """The sha256 of every blob a model version or a dataset version refers to.

    A new column that stores a blob digest must be added here, or the collector reaps its blobs.
    """
    query = union(select(ModelVersion.blob_sha256), select(DatasetVersion.blob_sha256))
    return {sha256 for (sha256,) in session.execute(query)}
