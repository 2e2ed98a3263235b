"""The demo registers the built-in templates as public models generating with the demo's SmolLM2."""

from __future__ import annotations

import json
from pathlib import Path

from limelight.artifacts.registry import open_store
from limelight.demo.llm import LLM_MODEL, ensure_llm
from limelight.demo.setup import DEMO_ORG, _ensure_templates
from limelight.generation.builtin_templates import BUILTIN_TEMPLATES
from limelight.registry import repository
from tests.support.demo_home import demo_home


def test_the_demo_registers_every_builtin_template_once_on_its_llm(tmp_path: Path) -> None:
    with demo_home(tmp_path) as home:
        settings, db, principal, console = home.settings, home.db, home.principal, home.console
        ensure_llm(settings, db, principal, console)
        _ensure_templates(settings, db, principal, console)
        _ensure_templates(settings, db, principal, console)  # a second start adds nothing
        assert home.printed().count("built-in prompt templates") == 1
        store = open_store(settings.artifacts_url)
        with db.transaction(write=False) as session:
            for name in BUILTIN_TEMPLATES:
                model = repository.model_by_name(session, principal.org_id, name)
                assert model is not None and model.visibility == "public" and model.task == "generate"
                assert model.latest_version == 1 and repository.aliases(session, model.id) == {"production": 1}
                version = repository.version(session, model.id, 1)
                assert version is not None and version.runtime == "prompt-template"
                with store.open(version.blob_sha256) as blob:
                    assert json.load(blob)["base_model"] == f"{DEMO_ORG}/{LLM_MODEL}"
