"""A synthetic marketplace for the search benchmark: orgs, models with versions, aliases, stars and
40 days of hourly traffic, written straight into a migrated metadata store (Core inserts, so the
full-text index and the showcase, star and usage columns are built by the same triggers or
generated column as in production).

Deterministic for a seed. Every model gets a name, a description, a Markdown card of a few hundred
words, tags, a licence (most), one to three versions with a runtime and metrics; most are public.
Text is drawn from a Zipf distribution over 300 domain words followed by 5,000 made-up ones (titles,
names), so a common word is in most cards and a rare one in a few, as in real catalogues.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from limelight.db.models import Model, ModelAlias, ModelStar, ModelVersion, Org, TrafficRollup, User
from limelight.db.models.monitoring import BUCKET_COLUMNS
from limelight.db.session import Database

WORDS = ["movie", "film", "series", "episode", "anime", "drama", "comedy", "thriller", "horror", "documentary", "music", "song", "album", "artist", "podcast", "trailer", "viewer", "audience", "rating", "review", "score", "genre", "actor", "director", "studio", "release", "premiere", "festival", "season", "binge", "catalog", "library", "playlist", "stream", "live", "sport", "football", "basketball", "news", "kids", "family", "classic", "indie", "action", "romance", "fantasy", "science", "fiction", "mystery", "crime", "history", "nature", "travel", "cooking", "game", "esports", "concert", "karaoke", "subtitle", "dubbing", "language", "french", "spanish", "japanese", "korean", "german", "italian", "hindi", "portuguese", "arabic", "chinese", "recommend", "ranking", "retrieval", "embedding", "classifier", "regression", "churn", "retention", "engagement", "conversion", "upsell", "cohort", "segment", "session", "click", "play", "pause", "skip", "rewatch", "completion", "watchtime", "dwell", "impression", "exposure", "personalised", "popularity", "trending", "fresh", "cold", "start", "similar", "item", "user", "matrix", "factorization", "transformer", "neural", "gradient", "boosting", "tree", "linear", "logistic", "calibrated", "ensemble", "distilled", "quantized", "multilingual", "sentiment", "toxicity", "moderation", "caption", "thumbnail", "poster", "artwork", "image", "vision", "audio", "speech", "transcript", "summary", "keyword", "topic", "tag", "metadata", "title", "synopsis", "plot", "character", "scene", "shot", "frame", "chapter", "highlight"]
_SYLLABLES = ("ka", "ro", "mi", "ten", "sa", "lu", "vor", "pe", "qui", "dan", "el", "zo", "nar", "bi", "tis", "mo",
              "gra", "fen", "ush", "lo", "ver", "ti", "ca", "rel")


def _made_up_words(count: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    found: dict[str, None] = {}
    while len(found) < count:
        found["".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))] = None
    return [word for word in found if word not in WORDS]


VOCABULARY = (*WORDS, *_made_up_words(5_000))
ZIPF_WEIGHTS = tuple(1.0 / rank for rank in range(1, len(VOCABULARY) + 1))
RARE_WORDS = VOCABULARY[1_000:]  # each in well under 1% of the models
TAGS = ("movies", "tv", "anime", "music", "podcasts", "sports", "kids", "news", "games", "books", "french", "spanish",
        "japanese", "korean", "multilingual", "churn", "retention", "ranking", "cold-start", "ltv", "ads", "search",
        "moderation", "captions", "thumbnails", "audio", "vision", "nlp", "tabular", "realtime", "batch", "gpu-free",
        "small", "large", "experimental", "stable", "benchmark", "baseline", "production", "research")
TASKS = ("recommend", "classify", "regress", "embed", "classify-text", "generate", "search", "assistant", "other",
         "predict-behaviour", "classify-image")
RUNTIMES = ("sklearn", "lightgbm", "onnx", "sentence-embedding", "recommender", "text-classifier", "catalog-search",
            "llm", "prompt-template", "behaviour", "image-classifier")
LICENCES = ("MIT", "Apache-2.0", "CC-BY-4.0", "CC-BY-NC-4.0", "BSD-3-Clause", "proprietary", None)
HOUR_S = 3600
BATCH = 2_000


@dataclass(frozen=True)
class CatalogSize:
    models: int = 10_000
    orgs: int = 100
    public_share: float = 0.7
    users: int = 300
    traffic_models: int = 1_000  # models with inference traffic in the last 40 days
    traffic_hours: int = 240  # hours with traffic per such model (of 960)


def _id() -> str:
    return uuid.uuid4().hex


def _text(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choices(VOCABULARY, ZIPF_WEIGHTS, k=rng.randint(low, high)))


def _card(rng: random.Random, name: str) -> str:
    paragraphs = [_text(rng, 30, 80).capitalize() + "." for _ in range(rng.randint(2, 4))]
    return f"# {name}\n\n" + "\n\n".join(paragraphs) + (
        f"\n\n| metric | value |\n|---|---|\n| ndcg@10 | {rng.random():.3f} |\n")


def _insert(db: Database, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        with db.transaction() as session:
            session.execute(insert(table), rows[start:start + BATCH])


def seed(db: Database, caller_org: str, size: CatalogSize, seed: int = 14) -> dict[str, int]:
    """Adds ``size`` to ``db``; the caller's org ``caller_org`` (existing) owns 1% of the models."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with db.transaction() as session:
        caller_id = session.scalar(select(Org.id).where(Org.name == caller_org))
    orgs = [{"id": _id(), "name": f"bench-org-{i:03d}", "display_name": f"Org {i}", "created_at": now}
            for i in range(size.orgs)]
    users = [{"id": _id(), "username": f"bench-user-{i:04d}", "password_hash": None, "is_admin": False,
              "disabled": False, "created_at": now} for i in range(size.users)]
    _insert(db, Org, orgs)
    _insert(db, User, users)
    owners = [caller_id] + [o["id"] for o in orgs]
    models, versions, aliases = [], [], []
    for i in range(size.models):
        name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{i:05d}"
        created = now - timedelta(seconds=rng.randint(0, 365 * 86400))
        model_id, count = _id(), rng.randint(1, 3)
        models.append({
            "id": model_id, "org_id": owners[0] if i % 100 == 0 else rng.choice(owners[1:]), "name": name,
            "task": rng.choice(TASKS), "description": _text(rng, 8, 20), "tags": rng.sample(TAGS, rng.randint(1, 4)),
            "visibility": "public" if rng.random() < size.public_share else "private", "card": _card(rng, name),
            "forked_from": None, "archived": rng.random() < 0.02, "latest_version": count,
            "needs_retraining": False, "retrain_policy": {}, "created_at": created, "updated_at": created,
            "licence": rng.choice(LICENCES)})
        runtime = rng.choice(RUNTIMES)
        for number in range(1, count + 1):
            versions.append({
                "id": _id(), "model_id": model_id, "version": number, "blob_sha256": "0" * 64, "size_bytes": 1,
                "format": "json", "runtime": runtime, "signature": {}, "params": {},
                "metrics": {"ndcg@10": round(rng.random(), 4), "accuracy": round(rng.uniform(0.5, 1), 4)},
                "description": "", "archived": False, "created_by": "bench", "created_at": created})
        if rng.random() < 0.6:
            aliases.append({"model_id": model_id, "alias": "production", "version_id": versions[-1]["id"],
                            "updated_at": now})
    _insert(db, Model, models)
    _insert(db, ModelVersion, versions)
    _insert(db, ModelAlias, aliases)
    stars = _stars(rng, models, users)
    _insert(db, ModelStar, stars)
    traffic = _traffic(rng, models, size)
    _insert(db, TrafficRollup, traffic)
    return {"orgs": len(orgs) + 1, "models": len(models), "versions": len(versions), "stars": len(stars),
            "hourly traffic rows": len(traffic)}


def _stars(rng: random.Random, models: list[dict[str, Any]], users: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    now = datetime.now(UTC)
    for model in models:
        count = min(len(users), int(rng.paretovariate(1.2)) - 1)  # most none, a few very many
        for user in rng.sample(users, count):
            rows.append({"model_id": model["id"], "user_id": user["id"], "created_at": now})
    return rows


def _traffic(rng: random.Random, models: list[dict[str, Any]], size: CatalogSize) -> list[dict[str, Any]]:
    hour_now = int(time.time()) // HOUR_S * HOUR_S
    rows = []
    for model in rng.sample(models, min(size.traffic_models, len(models))):
        for hours_ago in rng.sample(range(0, 40 * 24), size.traffic_hours):  # some older than the 30 days
            requests = rng.randint(1, 5_000)
            rows.append({"org_id": model["org_id"], "step_s": HOUR_S, "start_s": hour_now - hours_ago * HOUR_S,
                         "model_id": model["id"], "version": model["latest_version"], "requests": requests,
                         "client_errors": 0, "server_errors": 0, "latency_sum_ms": requests * 3.0,
                         **{column: 0 for column in BUCKET_COLUMNS[:-1]}, "le_inf": requests})
    return rows
