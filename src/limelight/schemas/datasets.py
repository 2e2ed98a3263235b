"""Datasets and their versions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from limelight.schemas.common import ReadSchema


class DatasetKind(StrEnum):
    interactions = "interactions"
    items = "items"
    users = "users"
    labeled_text = "labeled_text"
    tabular = "tabular"
    documents = "documents"
    images = "images"


class ColumnRead(ReadSchema):
    name: str
    type: str


class DatasetVersionRead(ReadSchema):
    dataset: str
    org: str
    version: int
    kind: DatasetKind
    rows: int
    size_bytes: int
    sha256: str
    source_format: str
    source_filename: str
    columns: list[ColumnRead]
    profile: dict[str, Any]
    created_by: str
    created_at: datetime


class DatasetRead(ReadSchema):
    id: str
    name: str
    org: str
    kind: DatasetKind
    description: str
    latest_version: int
    created_at: datetime
    latest: DatasetVersionRead | None = None
    versions: list[int] = Field(default_factory=list)
