"""Playground: try a model from the browser, and copy the same call for curl and the Python SDK.

The page's script calls the real inference API (``/v1/models/{org}/{name}:{verb}``) and the events
API with the session cookie and the CSRF header, so what the page shows is what clients get.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response

from limelight.datasets import repository as datasets_repo
from limelight.datasets import service as datasets
from limelight.registry import service as registry
from limelight.schemas.common import Name
from limelight.schemas.registry import ModelRead, ModelVersionRead
from limelight.server.deps import SessionDep, StateDep
from limelight.server.state import AppState
from limelight.ui.access import PageRoute
from limelight.ui.generation_pages import GENERATION_PAGES
from limelight.ui.preview import example_values
from limelight.ui.rendering import render
from limelight.ui.viewer import ReaderPage, Viewer

router = APIRouter(route_class=PageRoute, include_in_schema=False)

SAMPLE_USERS = 12
IMAGES_PER_CLASSIFY = 16  # the image playground sends at most this many pictures at once
EXAMPLE_TEXTS = "An absolute joy from start to finish.\nThe plot drags and the jokes fall flat."


@router.get("/playground")
def playground_index(request: Request, viewer: ReaderPage, session: SessionDep) -> Response:
    models = registry.list_models(session, viewer.principal, viewer.org, after=None, limit=500)
    return render(request, "playground_index.html", {"viewer": viewer, "models": models})


@router.get("/playground/{name}")
def playground_page(request: Request, name: Name, viewer: ReaderPage, session: SessionDep,
                    state: StateDep) -> Response:
    return _playground(request, viewer.org, name, viewer, session, state)


@router.get("/playground/{org}/{name}")
def any_playground_page(request: Request, org: Name, name: Name, viewer: ReaderPage, session: SessionDep,
                        state: StateDep) -> Response:
    """The playground of any model the viewer may call: their org's, or another org's public one
    (the marketplace's "Try it")."""
    return _playground(request, org, name, viewer, session, state)


def _playground(request: Request, org: str, name: str, viewer: Viewer, session: Any, state: AppState) -> Response:
    model = registry.get_model(session, viewer.principal, org, name)
    served = _served_version(session, viewer, model)
    base_url = str(request.base_url).rstrip("/")
    context: dict[str, Any] = {"viewer": viewer, "model": model, "served": served, "base_url": base_url}
    runtime = served.runtime if served else ""
    if runtime in GENERATION_PAGES:
        context.update(GENERATION_PAGES[runtime](served))
    elif runtime == "image-classifier":
        context.update(template="playground_image.html", labels=_labels(served), max_images=IMAGES_PER_CLASSIFY)
    elif model.task.value == "recommend":
        users = _sample_users(session, viewer, state, served)
        context.update(template="playground_recommend.html", users=users, first_user=users[0] if users else "u1",
                       can_recommend=_verb_known(state, "recommend"), can_explain=_verb_known(state, "explain"))
    elif model.task.value == "classify-text":
        context.update(template="playground_classify.html", labels=_labels(served), example_texts=EXAMPLE_TEXTS)
    elif model.task.value == "search":
        context.update(template="playground_search.html")
    else:
        context.update(template="playground_predict.html", example=_example_inputs(served))
    return render(request, context["template"], context)


def _labels(served: ModelVersionRead | None) -> list[str]:
    """The labels a classifier knows, as its version's signature lists them."""
    labels = served.signature.get("labels") if served else None
    return [str(label) for label in labels][:100] if isinstance(labels, list) else []


def _verb_known(state: AppState, verb: str) -> bool:
    """Whether this server's inference API has ``verb`` (the page only offers what will answer)."""
    engine = state.serving
    verbs = getattr(engine, "verbs", None)
    return bool(verbs is not None and verbs.known(verb))


def _served_version(session: Any, viewer: Viewer, model: ModelRead) -> ModelVersionRead | None:
    number = model.aliases.get("production") or model.latest_version
    if not number:
        return None
    return registry.get_version(session, viewer.principal, model.org, model.name, number)


def _sample_users(session: Any, viewer: Viewer, state: AppState, served: ModelVersionRead | None) -> list[str]:
    """A few user ids from the data the served version was trained on, to pick from."""
    if served is None or not served.dataset_version_id:
        return []
    found = datasets_repo.version_by_id(session, served.dataset_version_id)
    if found is None or found[1].org_id != viewer.principal.org_id:
        return []
    return example_values(datasets.normalized_path(state.artifacts, found[0].blob_sha256), "user_id", SAMPLE_USERS)


def _example_inputs(served: ModelVersionRead | None) -> str:
    """A request body shaped like the version's signature (zeros), to edit and send."""
    inputs = (served.signature.get("inputs") if served else None) or []
    first = inputs[0] if inputs and isinstance(inputs[0], dict) else {}
    shape = first.get("shape") or []
    width = shape[-1] if len(shape) >= 2 and isinstance(shape[-1], int) and shape[-1] > 0 else None
    row: Any = [0.0] * width if width else "text to score"
    return json.dumps({"inputs": [row]}, indent=2)
