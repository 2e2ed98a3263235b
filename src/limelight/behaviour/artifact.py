"""One ``.npz`` per behaviour model: numbers and unicode only, never a pickle.

=====================================  ==========================================================
``format``                             0-d unicode, ``limelight.behaviour/1``
``metadata``                           0-d unicode JSON: ``target``, ``horizon_days``, ``feature_spec``
                                       (windows, event type, category lists, …), ``feature_names``,
                                       ``calibration`` (log-odds -> probability), ``recency_prior`` (the
                                       log-odds the trees start from), ``population_rate``, ``typical`` (medians),
                                       ``history_start``/``history_end``, ``cutoff``, ``reference``
                                       (how a request's moment is chosen), ``events_max_seq``,
                                       ``events_dataset``, ``metrics``
``model``                              0-d unicode: the LightGBM model text (trees on top of the prior)
``history.users`` / ``history.offsets``  unicode (U,) sorted / int64 (U+1,): user i owns rows
                                       ``offsets[i]:offsets[i+1]`` of the arrays below
``history.{ts,types,values,items}``    int64 / unicode / float64 / unicode: the training events
``profile.users``, ``profile.<col>``   the ``users`` dataset's columns (float64 or unicode)
=====================================  ==========================================================

The training history travels with the model so that request-time features are computed from
exactly the events training saw, plus the live events that arrived after it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from limelight.artifacts.arrays import read_npz, write_npz
from limelight.behaviour.history import Histories
from limelight.errors import ValidationFailed

FORMAT = "limelight.behaviour/1"
_HISTORY = ("users", "offsets", "ts", "types", "values", "items")
_KINDS = {"users": "U", "offsets": "i", "ts": "i", "types": "U", "values": "f", "items": "U"}


@dataclass
class BehaviourArtifact:
    metadata: dict[str, Any]
    model_text: str
    histories: Histories
    profiles: dict[str, dict[str, Any]]


def save(path: Path, artifact: BehaviourArtifact) -> None:
    h = artifact.histories
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "metadata": np.array(json.dumps(artifact.metadata, sort_keys=True, allow_nan=False)),
        "model": np.array(artifact.model_text),
        **{f"history.{name}": np.asarray(getattr(h, name)) for name in _HISTORY},
    }
    arrays.update(_profile_arrays(artifact.profiles, artifact.metadata["feature_spec"].get("profile", [])))
    write_npz(path, arrays)


def _profile_arrays(profiles: dict[str, dict[str, Any]], columns: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    users = sorted(profiles)
    out = {"profile.users": np.asarray(users, dtype=str)}
    for column in columns:
        values = [profiles[u].get(column["name"]) for u in users]
        if column["categories"] is None:
            out[f"profile.column.{column['name']}"] = np.array([np.nan if v is None else float(v) for v in values])
        else:
            out[f"profile.column.{column['name']}"] = np.array(["" if v is None else str(v) for v in values], dtype=str)
    return out


def load(path: Path) -> BehaviourArtifact:
    arrays = read_npz(path, "behaviour model artifact")
    if _member(arrays, "format", "U", 0).item() != FORMAT:
        raise ValidationFailed(f"unsupported behaviour artifact (expected format {FORMAT})",
                               details={"field": "artifact"})
    try:
        metadata = json.loads(_member(arrays, "metadata", "U", 0).item())
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"behaviour artifact metadata is not JSON: {exc}", details={"field": "artifact"}) from None
    _check_metadata(metadata)
    history = {name: _member(arrays, f"history.{name}", _KINDS[name], 1) for name in _HISTORY}
    n = history["ts"].shape[0]
    if any(history[name].shape[0] != n for name in ("types", "values", "items")) or \
            history["offsets"].shape[0] != history["users"].shape[0] + 1 or \
            (n and (history["offsets"][0] != 0 or history["offsets"][-1] != n or (np.diff(history["offsets"]) < 0).any())):
        raise ValidationFailed("behaviour artifact history arrays do not line up", details={"field": "artifact"})
    histories = Histories(**{name: history[name] for name in _HISTORY})
    return BehaviourArtifact(metadata, _member(arrays, "model", "U", 0).item(), histories,
                             _profiles(arrays, metadata["feature_spec"].get("profile", [])))


def _profiles(arrays: dict[str, np.ndarray], columns: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    users = _member(arrays, "profile.users", "U", 1).tolist()
    profiles: dict[str, dict[str, Any]] = {u: {} for u in users}
    for column in columns:
        kind = "f" if column["categories"] is None else "U"
        values = _member(arrays, f"profile.column.{column['name']}", kind, 1)
        if values.shape[0] != len(users):
            raise ValidationFailed("behaviour artifact profile columns do not line up", details={"field": "artifact"})
        for user, value in zip(users, values.tolist(), strict=True):
            profiles[user][column["name"]] = None if value == "" or value != value else value
    return profiles


def _member(arrays: dict[str, np.ndarray], key: str, kind: str, ndim: int) -> np.ndarray:
    if key not in arrays:
        raise ValidationFailed(f"behaviour artifact lacks {key!r}", details={"field": "artifact"})
    array = np.asarray(arrays[key])
    empty_vector = array.size == 0 and ndim == 1 and array.ndim == 1  # an empty array's dtype says little
    if (array.dtype.kind != kind or array.ndim != ndim) and not empty_vector:
        raise ValidationFailed(f"behaviour artifact member {key!r} has dtype {array.dtype} / rank {array.ndim}",
                               details={"field": "artifact"})
    return array


def _check_metadata(metadata: Any) -> None:
    required = ("target", "horizon_days", "feature_spec", "feature_names", "calibration", "recency_prior",
                "population_rate",
                "typical", "history_end", "reference")
    if not isinstance(metadata, dict) or any(key not in metadata for key in required):
        raise ValidationFailed(f"behaviour artifact metadata needs {list(required)}", details={"field": "artifact"})
    if metadata["target"] not in ("churn", "next-action"):
        raise ValidationFailed("behaviour artifact target must be churn or next-action", details={"field": "artifact"})
