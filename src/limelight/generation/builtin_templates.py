"""The templates shipped with limelight, and registering them as public models of an org.

Each is a ``limelight.template/1`` document in ``generation/templates/<name>.json``. Registered,
each becomes ``<org>/<name>`` (task ``generate``, runtime ``prompt-template``, public, alias
``production``), so every org can call it, or fork it and edit its own copy.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import TYPE_CHECKING

from limelight.errors import NotFound
from limelight.generation.template_spec import TemplateSpec, parse_template

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from limelight.artifacts.store import ArtifactStore
    from limelight.auth.principal import Principal

__all__ = ["BUILTIN_TEMPLATES", "builtin_template", "builtin_template_bytes", "register_builtin_templates",
           "with_base_model"]

BUILTIN_TEMPLATES = ("logline", "synopsis", "episode-outline", "scene-dialogue", "song-lyrics", "game-quest",
                     "character-sheet", "melody")
_MAX_TEMPLATE_BYTES = 256 * 1024


def builtin_template_bytes(name: str) -> bytes:
    if name not in BUILTIN_TEMPLATES:
        raise NotFound(f"no built-in template {name!r}", details={"available": list(BUILTIN_TEMPLATES)})
    return resources.files("limelight.generation").joinpath("templates", f"{name}.json").read_bytes()


def builtin_template(name: str) -> TemplateSpec:
    return parse_template(builtin_template_bytes(name))


def with_base_model(raw: bytes, base_model: str | None) -> bytes:
    """The template document with ``base_model`` set (unchanged for None)."""
    if base_model is None:
        return raw
    return (json.dumps({**json.loads(raw), "base_model": base_model}, indent=2) + "\n").encode()


def _card(name: str, spec: TemplateSpec) -> str:
    variables = "\n".join(f"* `{v.name}`{'' if v.required else ' (optional)'}: {v.description}"
                          for v in spec.variables)
    return (f"# {spec.title}\n\n{spec.description}\n\nA built-in prompt template (output: `{spec.output.kind}`). "
            f"Call it with `POST /v1/models/{{org}}/{name}:generate` and `{{\"variables\": {{...}}}}`, "
            f"or fork it to edit your own copy.\n\n## Variables\n{variables}\n")


def register_builtin_templates(session: Session, principal: Principal, org: str, store: ArtifactStore,
                               names: tuple[str, ...] = BUILTIN_TEMPLATES, *,
                               base_model: str | None = None) -> list[str]:
    """Register the built-ins missing from ``org`` (idempotent); the names registered now.

    With ``base_model`` ("org/name" of an ``llm`` model, public if other orgs are to use the
    templates), every template generates with that one served model instead of each starting its
    own copy of the bundled one."""
    from limelight.registry import repository
    from limelight.registry import service as registry
    from limelight.schemas.registry import ModelCreate, Task, VersionMeta, Visibility

    added = []
    for name in names:
        model = repository.model_by_name(session, principal.org_id, name)
        if model is not None and model.latest_version > 0:
            continue
        raw = with_base_model(builtin_template_bytes(name), base_model)
        spec = parse_template(raw)
        if model is None:
            registry.create_model(session, principal, org, ModelCreate(
                name=name, task=Task.generate, description=spec.description[:2000], visibility=Visibility.public,
                tags=["template", "builtin", spec.output.kind], card=_card(name, spec)))
        blob = store.write_stream([raw], max_bytes=_MAX_TEMPLATE_BYTES)
        version = registry.register_version(
            session, principal, org, name, sha256=blob.sha256, size_bytes=blob.size_bytes, fmt="json",
            meta=VersionMeta(runtime="prompt-template", format="json", description=f"built-in template {name}",
                             signature=spec.signature()))
        registry.set_alias(session, principal, org, name, "production", version.version)
        added.append(name)
    return added
