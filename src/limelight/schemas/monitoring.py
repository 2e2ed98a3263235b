"""Monitoring of an org's served models: traffic, errors, availability and latency over a window."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from limelight.schemas.common import ReadSchema


class MonitoringWindow(StrEnum):
    """How far back to look; up to 6 hours the points are minutes, beyond that hours."""

    hour = "1h"
    six_hours = "6h"
    day = "24h"
    week = "7d"


class TrafficStats(ReadSchema):
    requests: int
    client_errors: int = Field(description="answers with a 4xx status")
    server_errors: int = Field(description="answers with a 5xx status")
    availability: float | None = Field(description="share of answers that were not 5xx; null without requests")
    error_rate: float | None = Field(description="share of answers that were 4xx or 5xx; null without requests")
    requests_per_s: float = Field(description="requests over the whole window, per second")
    mean_ms: float | None = None
    p50_ms: float | None = Field(None, description="latency quantiles, interpolated in the histogram buckets")
    p95_ms: float | None = None
    p99_ms: float | None = None


class TrafficPoint(ReadSchema):
    start: datetime = Field(description="start of the step (a minute or an hour)")
    requests: int
    client_errors: int
    server_errors: int
    p50_ms: float | None = None
    p99_ms: float | None = None


class VersionTraffic(ReadSchema):
    version: int | None = Field(description="null: requests that resolved no version (e.g. an unknown alias)")
    stats: TrafficStats
    points: list[TrafficPoint] = Field(default_factory=list)


class ModelTrafficSummary(ReadSchema):
    name: str
    task: str
    production_version: int | None
    canary: bool = Field(description="the deployment splits traffic over more than one version")
    stats: TrafficStats
    versions: list[VersionTraffic] = Field(description="per version, without points")


class OrgMonitoring(ReadSchema):
    org: str
    window: MonitoringWindow
    step_s: int
    since: datetime
    until: datetime
    stats: TrafficStats = Field(description="every model of the org together")
    points: list[TrafficPoint]
    models: list[ModelTrafficSummary]


class ModelMonitoring(ReadSchema):
    org: str
    name: str
    task: str
    window: MonitoringWindow
    step_s: int
    since: datetime
    until: datetime
    canary: bool = Field(description="the deployment splits traffic over more than one version")
    stats: TrafficStats
    points: list[TrafficPoint] = Field(description="every version together")
    versions: list[VersionTraffic]


class CatalogWeek(ReadSchema):
    start: datetime = Field(description="Monday 00:00 UTC")
    recommendations: int = Field(description="items shown (each answer counts its k items)")
    distinct_items: int
    coverage: float | None = Field(description="share of the catalog shown at least once; null when the "
                                               "version did not record its catalog size")
    gini: float | None = Field(description="concentration of what was shown over the catalog: 0 all items "
                                           "equally, near 1 a few items take everything")
    drift: float | None = Field(description="Jensen-Shannon distance (0..1) from the previous week's "
                                            "distribution of shown items; null without both weeks")
    top_items: list[tuple[str, int]] = Field(default_factory=list, description="the most shown items")


class CatalogHealth(ReadSchema):
    org: str
    name: str
    catalog_size: int | None = Field(description="items the served version can recommend")
    weeks: list[CatalogWeek] = Field(description="oldest first, up to the current (partial) week")
