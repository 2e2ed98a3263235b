"""The recommendation recipes, one module each, all implementing ``limelight.recsys.base.Recommender``.

``create("als", {"factors": 64})`` builds an unfitted recommender with validated params;
``algorithm_class(name).from_arrays(arrays)`` rebuilds a fitted one from an artifact.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

from limelight.errors import InvalidParams
from limelight.recsys.algorithms.als import ALS, ALSParams
from limelight.recsys.algorithms.bpr import BPR, BPRParams
from limelight.recsys.algorithms.ease import EASE, EASEParams
from limelight.recsys.algorithms.itemknn import ItemKNN, ItemKNNParams
from limelight.recsys.algorithms.popularity import Popularity, PopularityParams
from limelight.recsys.base import Recommender, RecsysParams

__all__ = [
    "ALGORITHMS",
    "ALS",
    "BPR",
    "EASE",
    "ALSParams",
    "BPRParams",
    "EASEParams",
    "ItemKNN",
    "ItemKNNParams",
    "Popularity",
    "PopularityParams",
    "algorithm_class",
    "create",
    "params_class",
]

ALGORITHMS: Mapping[str, type[Popularity | ItemKNN | ALS | BPR | EASE]] = MappingProxyType(
    {cls.name: cls for cls in (Popularity, ItemKNN, ALS, BPR, EASE)}
)
_PARAMS: Mapping[str, type[RecsysParams]] = MappingProxyType(
    {
        "popularity": PopularityParams,
        "itemknn": ItemKNNParams,
        "als": ALSParams,
        "bpr": BPRParams,
        "ease": EASEParams,
    }
)


def algorithm_class(name: str) -> Any:
    """The class of a recipe name; the composites ``hybrid`` (a base model plus content cold start)
    and ``blend`` (what ``recommend/auto`` builds from its two best candidates) included."""
    if name == "hybrid":
        from limelight.recsys.algorithms.hybrid import Hybrid

        return Hybrid
    if name == "blend":
        from limelight.recsys.algorithms.blend import Blend

        return Blend
    try:
        return ALGORITHMS[name]
    except KeyError:
        raise InvalidParams(f"unknown recommender {name!r}", details={"known": sorted(ALGORITHMS)}) from None


def params_class(name: str) -> type[RecsysParams]:
    if name == "hybrid":
        from limelight.recsys.algorithms.hybrid import HybridParams

        return HybridParams
    if name == "blend":
        from limelight.recsys.algorithms.blend import BlendParams

        return BlendParams
    algorithm_class(name)
    return _PARAMS[name]


def create(name: str, params: Mapping[str, Any] | BaseModel | None = None) -> Recommender:
    """An unfitted recommender of the named recipe; params are validated (``InvalidParams``)."""
    raw = params.model_dump() if isinstance(params, BaseModel) else params
    model: Recommender = algorithm_class(name)(raw)
    return model
