"""The demo registers the built-in templates as public models generating with the demo's SmolLM2."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from limelight.artifacts.registry import open_store
from limelight.config import Settings
from limelight.db.migrate import upgrade
from limelight.db.session import open_database
from limelight.demo.llm import LLM_MODEL, ensure_llm
from limelight.demo.setup import DEMO_ORG, _demo_principal, _ensure_templates
from limelight.generation.builtin_templates import BUILTIN_TEMPLATES
from limelight.orgs.bootstrap import initialize
from limelight.registry import repository


def test_the_demo_registers_every_builtin_template_once_on_its_llm(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'meta.db'}")
    db = open_database(settings.database_url)
    try:
        upgrade(db)
        initialize(db, org=DEMO_ORG, username="admin", password="a-long-enough-password")
        principal = _demo_principal(db)
        assert principal is not None
        console = Console(file=io.StringIO())
        ensure_llm(settings, db, principal, console)
        _ensure_templates(settings, db, principal, console)
        _ensure_templates(settings, db, principal, console)  # a second start adds nothing
        assert console.file.getvalue().count("built-in prompt templates") == 1  # type: ignore[attr-defined]
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
    finally:
        db.dispose()
