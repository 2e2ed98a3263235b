"""The ``:search`` verb on ``/v1/models/{org}/{name}:search`` (see ``serving.verb_registry``).

``{"query": str, "k": 1..100 (10), "filters": {...} (as in :recommend), "mode": "hybrid" | "lexical" |
"semantic" (hybrid)}`` -> ``{"items": [{"item_id", "score", "title", …metadata, "highlights": {field:
[[start, end], …]}}], "index": "exact" | "approximate", "model", "version"}``. Requests go through the
version's batcher, so concurrent queries share one encoder call off the event loop.
"""

from __future__ import annotations

from typing import Any

from limelight.search.requests import parse_request
from limelight.verbs import Served, VerbHandler, VerbRegistry

RUNTIMES = frozenset({"catalog-search"})


def _respond(outputs: list[Any], body: dict[str, Any], served: Served) -> dict[str, Any]:
    return {**outputs[0], "model": served.model_ref, "version": served.version}


def register_verbs(registry: VerbRegistry) -> None:
    registry.register(VerbHandler(verb="search", runtimes=RUNTIMES, parse=lambda body: [parse_request(body)],
                                  respond=_respond))
