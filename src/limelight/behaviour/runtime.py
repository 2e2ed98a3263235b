"""The ``behaviour`` runtime: a churn / next-action model answering for one user at a time.

A request names a user (and optionally ``as_of``, the moment to predict from). Their events are the
training history stored in the artifact plus the live events of the same stream that arrived after
training (``LoadContext.services["event_feed"]``); ``features.user_features`` turns them into the
same features training used. A user with no event before ``as_of`` gets the population rate and
``no_history: true``.

Reference time: with no ``as_of``, the moment is the wall clock while it is within one horizon
after the data's last event (a live stream), else the data's last event (a historical export,
where "now" would make everyone look gone).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from limelight.behaviour.artifact import BehaviourArtifact, load
from limelight.behaviour.calibration import Calibrator
from limelight.behaviour.features import DAY_S, FeatureSpec, feature_row, user_features
from limelight.behaviour.history import UserEvents
from limelight.behaviour.reasons import top_reasons
from limelight.behaviour.snapshots import parse_moment
from limelight.behaviour.training import RecencyPrior, margin
from limelight.errors import ValidationFailed
from limelight.runtimes.base import LoadContext, refuse_pickle

MAX_USER_ID = 256
REASONS = 3


class BehaviourRuntime:
    """An item is ``{"user_id": str, "as_of": int | None}``; an output the prediction object."""

    max_batch_size = 256

    def __init__(self, artifact: BehaviourArtifact, booster: Any, *, org: str | None, feed: Any) -> None:
        meta = artifact.metadata
        self.artifact = artifact
        self.booster = booster
        self.spec = FeatureSpec.from_json(meta["feature_spec"])
        self.names: list[str] = list(meta["feature_names"])
        self.calibrator = Calibrator.from_json(meta["calibration"])
        self.prior = RecencyPrior(**meta["recency_prior"])
        self._recency = self.names.index("days_since_last")
        self.population_rate = float(meta["population_rate"])
        self.typical: dict[str, Any] = meta["typical"]
        self.categories = {c.feature: c.categories for c in self.spec.profile if c.categories is not None}
        self.history_end = int(meta["history_end"])
        self.horizon_days = int(meta["horizon_days"])
        self._trained_seq = int(meta.get("events_max_seq", 0))
        self._events_dataset: str | None = meta.get("events_dataset")
        self._org, self._feed = org, feed
        h = artifact.histories
        self.memory_bytes = int(sum(a.nbytes for a in (h.ts, h.types, h.values, h.items, h.users))) + (16 << 20)

    @classmethod
    def load(cls, artifact_path: Path, params: dict[str, Any], context: LoadContext) -> BehaviourRuntime:
        refuse_pickle(artifact_path)
        import lightgbm as lgb

        artifact = load(artifact_path)
        try:
            booster = lgb.Booster(model_str=artifact.model_text)
        except lgb.basic.LightGBMError as exc:
            raise ValidationFailed(f"behaviour artifact holds no readable LightGBM model: {exc}",
                                   details={"field": "artifact"}) from None
        if booster.num_feature() != len(artifact.metadata["feature_names"]):
            raise ValidationFailed("behaviour artifact: the model's features differ from its feature names",
                                   details={"field": "artifact"})
        return cls(artifact, booster, org=context.org, feed=context.services.get("event_feed"))

    # ---- the Runtime surface ------------------------------------------------------------------

    def signature(self) -> dict[str, Any]:
        example = {"user_id": str(self.artifact.histories.users[0]) if self.artifact.histories.users.size else "u1"}
        return {"inputs": [{"name": "request", "dtype": "object", "shape": [-1], "example": example}],
                "outputs": [{"name": "probability", "dtype": "float64", "shape": [-1]},
                            {"name": "reasons", "dtype": "object", "shape": [-1, -1]}],
                "target": self.artifact.metadata["target"], "features": self.names}

    def validate_input(self, item: Any) -> dict[str, Any]:
        if isinstance(item, str):
            item = {"user_id": item}
        if not isinstance(item, dict):
            raise ValidationFailed("a behaviour request is {\"user_id\": ...}", details={"field": "inputs"})
        unknown = sorted(set(item) - {"user_id", "as_of"})
        if unknown:
            raise ValidationFailed(f"unknown field {unknown[0]!r}", details={"field": unknown[0]})
        user_id = item.get("user_id")
        if not isinstance(user_id, str) or not user_id or len(user_id) > MAX_USER_ID:
            raise ValidationFailed(f"user_id must be a non-empty string (max {MAX_USER_ID})",
                                   details={"field": "user_id"})
        as_of = item.get("as_of")
        return {"user_id": user_id, "as_of": None if as_of is None else parse_moment(as_of, "as_of")}

    def predict_batch(self, inputs: list[Any]) -> list[Any]:
        return self.predict_users([i["user_id"] for i in inputs], [i.get("as_of") for i in inputs])

    def close(self) -> None:
        self.booster = None

    # ---- behaviour ----------------------------------------------------------------------------

    def default_as_of(self, now: float | None = None) -> int:
        clock = int(time.time() if now is None else now)
        return clock if self.history_end <= clock <= self.history_end + self.horizon_days * DAY_S \
            else self.history_end + 1  # +1: the last event itself is history

    def events(self, user_id: str) -> UserEvents:
        """The training history of the user plus their live events that came after training."""
        stored = self.artifact.histories.user(user_id)
        if self._feed is None or self._org is None:
            return stored
        org_id = self._feed.org_id(self._org)
        live = self._feed.history(org_id, user_id, after_seq=self._trained_seq, dataset=self._events_dataset) \
            if org_id else []
        live = [e for e in live if e.ts is not None]
        return stored.plus([int(e.ts) for e in live], [e.type for e in live],
                           [math.nan if e.value is None else float(e.value) for e in live], [e.item_id for e in live])

    def features(self, user_id: str, as_of: int) -> tuple[dict[str, float], bool]:
        """The user's features at ``as_of`` and whether they have any history before it."""
        events = self.events(user_id)
        has_history = bool(len(events.before(as_of)))
        return user_features(events, as_of, self.spec, self.artifact.profiles.get(user_id)), has_history

    def predict_users(self, user_ids: list[str], as_ofs: list[int | None]) -> list[dict[str, Any]]:
        default = self.default_as_of()
        moments = [default if a is None else a for a in as_ofs]
        rows, known = [], []
        for user_id, as_of in zip(user_ids, moments, strict=True):
            features, has_history = self.features(user_id, as_of)
            rows.append(feature_row(features, self.names))
            known.append(has_history)
        x = np.asarray(rows, np.float64).reshape(len(rows), len(self.names))
        outputs = [self._no_history(u, m) for u, m in zip(user_ids, moments, strict=True)]
        index = [i for i, k in enumerate(known) if k]
        if index:
            rows_x = x[index]
            probabilities = self.calibrator.apply(margin(self.booster, self.prior, rows_x, self._recency))
            contributions = self.booster.predict(rows_x, pred_contrib=True)
            # the prior speaks about recency only: its part beyond its share of the bias is recency's
            contributions[:, self._recency] += self.prior.logit(rows_x[:, self._recency]) - self.prior.reference
            for row, i in enumerate(index):
                outputs[i] = {"user_id": user_ids[i], "probability": round(float(probabilities[row]), 6),
                              "no_history": False, "as_of": moments[i],
                              "reasons": top_reasons(self.names, x[i].tolist(), contributions[row, :-1].tolist(),
                                                     self.typical, self.categories, REASONS)}
        return outputs

    def _no_history(self, user_id: str, as_of: int) -> dict[str, Any]:
        return {"user_id": user_id, "probability": round(self.population_rate, 6), "no_history": True,
                "as_of": as_of, "reasons": []}

    def known_users(self) -> list[str]:
        return self.artifact.histories.users.tolist()
