"""Models, versions, aliases, deployments, marketplace."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StringConstraints, field_validator

from limelight.domains import RUNTIMES
from limelight.schemas.common import Name, Page, ReadSchema, Schema, VersionNumber


class Visibility(StrEnum):
    private = "private"
    public = "public"


class Task(StrEnum):
    recommend = "recommend"
    classify = "classify"
    regress = "regress"
    embed = "embed"
    classify_text = "classify-text"
    generate = "generate"
    search = "search"
    assistant = "assistant"
    other = "other"
    predict_behaviour = "predict-behaviour"
    classify_image = "classify-image"


# The runtimes a version can be served with (a version is validated against its runtime), as
# limelight.domains declares them: one place to add a runtime, one enum for OpenAPI, SDK and CLI.
RuntimeName = StrEnum("RuntimeName", {name.replace("-", "_"): name for name in RUNTIMES})  # type: ignore[misc]


class ArtifactFormatName(StrEnum):
    """The artifact formats accepted at upload (decided from the bytes, never from the name)."""

    safetensors = "safetensors"
    onnx = "onnx"
    lightgbm = "lightgbm"
    skops = "skops"
    npy = "npy"
    npz = "npz"
    json = "json"
    gguf = "gguf"


FORMAT_MEDIA_TYPES: dict[str, ArtifactFormatName] = {
    "application/vnd.safetensors": ArtifactFormatName.safetensors,
    "application/onnx": ArtifactFormatName.onnx,
    "text/vnd.lightgbm": ArtifactFormatName.lightgbm,
    "application/vnd.skops+zip": ArtifactFormatName.skops,
    "application/vnd.numpy.npy": ArtifactFormatName.npy,
    "application/vnd.numpy.npz": ArtifactFormatName.npz,
    "application/json": ArtifactFormatName.json,
    "application/vnd.gguf": ArtifactFormatName.gguf,
}


LICENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.+-]{0,63}$"
# An SPDX-like licence id ("Apache-2.0", "MIT", "CC-BY-4.0", "proprietary"): one short token.
Licence = Annotated[str, StringConstraints(pattern=LICENCE_PATTERN)]


class ModelCreate(Schema):
    name: Name
    task: Task
    description: str = Field("", max_length=2000)
    tags: list[Name] = Field(default_factory=list, max_length=32)
    visibility: Visibility = Visibility.private
    card: str = Field("", max_length=100_000, description="model card, Markdown")
    licence: Licence | None = Field(None, description='SPDX-like licence id, e.g. "Apache-2.0"', examples=["MIT"])


class ModelUpdate(Schema):
    description: str | None = Field(None, max_length=2000)
    tags: list[Name] | None = Field(None, max_length=32)
    visibility: Visibility | None = None
    card: str | None = Field(None, max_length=100_000)
    archived: StrictBool | None = None
    licence: Annotated[str, StringConstraints(pattern=r"^([A-Za-z0-9][A-Za-z0-9.+-]{0,63})?$")] | None = Field(
        None, description='SPDX-like licence id, e.g. "Apache-2.0"; "" removes it')

    @field_validator("tags")
    @classmethod
    def _tags_once(cls, tags: list[str] | None) -> list[str] | None:
        """A tag given twice is kept once (the marketplace counts models per tag)."""
        return list(dict.fromkeys(tags)) if tags is not None else None


class ModelRead(ReadSchema):
    id: str
    org: str
    name: str
    task: Task
    description: str
    tags: list[str]
    visibility: Visibility
    card: str
    forked_from: str | None
    archived: bool
    latest_version: int
    needs_retraining: bool
    aliases: dict[str, int] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime
    licence: str | None = None
    stars: int = Field(0, description="how many users starred it")
    starred: bool = Field(False, description="whether the caller starred it")


class SearchSort(StrEnum):
    """Orders of marketplace results; each breaks ties by org, then name."""

    relevance = "relevance"  # best text match first (the default when there is a search text)
    stars = "stars"  # most starred first
    usage = "usage"  # most inference requests in the last 30 days first
    newest = "newest"  # most recently created first (the default without search text)


FACETS = ("task", "runtime", "org", "tag", "licence")


class ModelSearchPage(Page[ModelRead]):
    """A page of marketplace results. The first page (no cursor) also counts the whole result:
    ``total`` and ``facets``; later pages share them and leave both null."""

    total: int | None = Field(None, description="how many models match, over all pages (first page only)")
    facets: dict[str, dict[str, int]] | None = Field(
        None,
        description="first page only: per facet (task, runtime, org, tag, licence), value -> number of matching "
                    "models, most frequent first, at most 50 values each; a model's runtime is its production "
                    "(else latest) version's")


class ArtifactValidation(ReadSchema):
    """How a version's artifact passed validation in the sandbox process, and with which libraries."""

    status: str = Field(..., examples=["passed"])
    runtime: str
    format: str
    libraries: dict[str, str] = Field(..., description="distribution -> version that loaded it")
    checked_at: str
    duration_s: float
    network_isolated: bool


class ModelVersionRead(ReadSchema):
    model: str
    org: str
    version: int
    sha256: str
    size_bytes: int
    format: str
    runtime: str
    signature: dict[str, Any]
    params: dict[str, Any]
    metrics: dict[str, Any]
    description: str
    dataset_version_id: str | None
    job_id: str | None
    archived: bool
    aliases: list[str] = Field(default_factory=list)
    created_by: str
    created_at: datetime
    validation: ArtifactValidation | None = Field(
        None, description="the sandbox validator's verdict; null until the version was first validated")
    card_facts: dict[str, Any] | None = Field(
        None, description="what the training job recorded for the model card (recipe, data, example call, "
                          "serving latency, limitations); null for uploaded files")


class CardExample(Schema):
    verb: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_-]{0,31}$")] = Field(..., examples=["predict", "chat"])
    body: dict[str, Any] = Field(..., description="the request body of that verb")


class VersionMeta(Schema):
    """The non-file fields of a version upload (sent as the multipart ``meta`` JSON field)."""

    runtime: RuntimeName = Field(..., examples=["sklearn", "lightgbm", "onnx"])
    format: ArtifactFormatName | None = Field(
        None, description="checked against the sniffed format; a format name or its media type")
    signature: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    description: str = Field("", max_length=2000)
    example: CardExample | None = Field(None, description="one call of this version for its model card's snippets")
    limitations: list[Annotated[str, StringConstraints(max_length=500)]] = Field(
        default_factory=list, max_length=20, description="what the model card should say it cannot do")

    @field_validator("format", mode="before")
    @classmethod
    def _media_type_to_format(cls, value: Any) -> Any:
        if isinstance(value, str):
            return FORMAT_MEDIA_TYPES.get(value.strip().lower(), value)
        return value


class AliasSet(Schema):
    version: VersionNumber


class ForkRetrain(Schema):
    """Retrain the fork at once on the forker's own data, with the recipe and parameters of the version forked."""

    dataset: Name = Field(..., description="a dataset of the receiving org, of the kind that recipe trains on")
    items_dataset: Name | None = Field(None, description="the receiving org's catalog, if the recipe uses one")
    users_dataset: Name | None = Field(None, description="the receiving org's user profiles, if the recipe uses them")
    promote: Name | None = Field(None, description="alias to move to the retrained version if its gate metric is "
                                                   "at least the current one's")


class ForkRequest(Schema):
    org: Name = Field(..., description="the org that receives the fork")
    name: Name | None = None
    retrain: ForkRetrain | None = None


class ForkRead(ModelRead):
    retrain_job: str | None = Field(None, description="the job retraining the fork, when ``retrain`` was given")


class CardSnippet(ReadSchema):
    kind: Literal["curl", "python", "cli", "openai"]
    label: str
    code: str = Field(..., description="runs as printed once LIMELIGHT_API_KEY holds a key that may call the model")


class ModelCard(ReadSchema):
    """A model's card: the owners' prose and the facts generated from the run of one version."""

    model: str
    version: int | None = Field(None, description="the version the facts describe (production, else latest)")
    prose: str = Field(..., description="the owners' Markdown (PATCH the model's card to change it)")
    facts: str = Field(..., description="generated Markdown: recipe, data, metrics, latency, schema, limitations")
    snippets: list[CardSnippet] = Field(default_factory=list, description="calls of the recorded example")
    example: dict[str, Any] | None = Field(None, description="the example call: verb and body")
    example_answer: Any = Field(None, description="what the example returned at registration")


class ShareAccess(StrEnum):
    """What another org may do with a private model shared with it; ``read`` includes ``invoke``."""

    invoke = "invoke"  # call it through the inference API, nothing else
    read = "read"  # also see its card and versions, find it in search, and fork it


class ShareSet(Schema):
    access: ShareAccess = ShareAccess.invoke


class ShareRead(ReadSchema):
    model: str = Field(..., description="org/name of the shared model")
    org: str = Field(..., description="the org it is shared with")
    access: ShareAccess
    created_by: str
    created_at: datetime


class Route(Schema):
    version: VersionNumber
    weight: float = Field(..., gt=0, le=1000)


class DeploymentSpec(Schema):
    routes: list[Route] = Field(..., min_length=1, max_length=16)
    shadow: Route | None = None
    sticky_field: str = Field("user_id", max_length=64)
    max_batch_size: int = Field(32, ge=1, le=1024)
    max_wait_ms: float = Field(2.0, ge=0, le=1000)
    max_queue: int = Field(256, ge=1, le=100_000)
    timeout_ms: int = Field(30_000, ge=10, le=600_000)
    event_weights: dict[str, float] = Field(default_factory=dict)


class DeploymentRead(DeploymentSpec):
    model: str
    org: str
    updated_at: datetime


class RetrainPolicy(Schema):
    """Retrain a model on its latest data on a schedule, after enough new events, or both."""

    recipe: str = Field(..., max_length=64)
    dataset: Name
    items_dataset: Name | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    every_hours: float | None = Field(None, gt=0, le=24 * 365)
    after_events: int | None = Field(None, ge=1)
    promote: Name | None = Field("production", description="alias moved only if the gate metric does not drop")


class RetrainPolicyRead(RetrainPolicy):
    model: str
    org: str
    owner: str
    last_submitted_at: str | None = None
    last_event_seq: int = 0
