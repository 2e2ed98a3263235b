"""The Recipe Protocol: a named, typed training procedure. A new recipe is one module."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from limelight.schemas.common import StrictInput


class RecipeParams(StrictInput):
    """A recipe's typed parameters: closed, finite numbers, strict booleans (see ``StrictInput``)."""


class JobCancelled(Exception):
    """Raised inside a recipe when the job was cancelled; the worker records `cancelled`."""


class JobContext(Protocol):
    job_id: str
    org: str
    workdir: Path

    def dataset_path(self, role: str = "main") -> Path:
        """The normalised Parquet file of an input dataset (role ``main`` or ``items``)."""
        ...

    def has_dataset(self, role: str) -> bool: ...

    def output_path(self, suffix: str) -> Path:
        """Where the recipe writes its one artifact; the worker stores it after success."""
        ...

    def progress(self, percent: float, message: str = "") -> None: ...

    def log(self, message: str, level: str = "info") -> None: ...

    def metric(self, values: dict[str, float], step: int, epoch: int | None = None) -> None:
        """One training-curve point: a job log entry of level ``metric`` whose message is the compact
        JSON ``{"step", "epoch", **values}`` (the log stream carries it to whoever charts it)."""
        ...

    def check_cancelled(self) -> None:
        """Raises JobCancelled when the job was cancelled."""
        ...

    def live_events(self) -> LiveEvents:
        """The events received through the events API for this job's dataset (only those)."""
        ...

    def model_input(self) -> ModelInput:
        """The model version a scoring job reads (recipes with ``consumes = "model"``)."""
        ...


@dataclass(frozen=True)
class ModelInput:
    """A registered version, as a scoring job's child sees it: its artifact and how to load it."""

    ref: str  # "org/name"
    version: int
    artifact: Path
    runtime_params: dict[str, Any]
    services: dict[str, Any]  # what a runtime may borrow (``event_feed``), as ``LoadContext.services``


@dataclass
class LiveEvents:
    rows: list[tuple[str, str, str, float | None, float]]  # user_id, item_id, type, value, timestamp
    max_seq: int  # the newest event included; serving folds in only what came after
    dataset: str | None = None  # whose event stream these are; serving folds in only that stream


@dataclass
class RecipeResult:
    runtime: str
    format: str
    metrics: dict[str, Any]
    signature: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    gate_metric: str | None = None  # a metric that must not drop for the new version to be promoted
    dataset: DatasetOutput | None = None  # set by recipes that produce a dataset version, not a model
    # for the model card: one real call of the model (``{"verb": ..., "body": ...}``, from the training
    # data) that the worker times in process and the card's snippets send; what the model cannot do
    example: dict[str, Any] | None = None
    limitations: list[str] = field(default_factory=list)
    serving: dict[str, Any] | None = None  # filled by the worker: the example's latency and answer


@dataclass
class DatasetOutput:
    """The validated table a dataset-producing recipe wrote as its artifact (normalised Parquet)."""

    name: str
    kind: str
    rows: int
    columns: list[dict[str, str]]
    profile: dict[str, Any]
    source_filename: str
    description: str = ""


class Recipe(Protocol):
    # read-only members: a recipe may set them on the class or per instance
    @property
    def name(self) -> str: ...

    @property
    def task(self) -> str: ...

    @property
    def dataset_kind(self) -> str: ...

    @property
    def description(self) -> str: ...

    # optional: ``also_accepts: tuple[str, ...]``, further dataset kinds the recipe trains on;
    # ``consumes = "model"`` and ``produces = "dataset"`` for a job that reads the version of the job's
    # ``model`` and writes a dataset of kind ``dataset_kind`` (batch scoring) instead of training

    @property
    def Params(self) -> type[RecipeParams]: ...  # noqa: N802 - the params model, named like a class

    def run(self, ctx: JobContext, params: RecipeParams) -> RecipeResult: ...


def consumes(recipe: Recipe) -> str:
    """``dataset`` (a training recipe) or ``model`` (one that reads a version of the job's model)."""
    return str(getattr(recipe, "consumes", "dataset"))


def produces(recipe: Recipe) -> str:
    """``model`` (registers a model version) or ``dataset`` (registers a dataset version)."""
    return str(getattr(recipe, "produces", "model"))
