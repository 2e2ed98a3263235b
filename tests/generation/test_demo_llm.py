"""The demo registers the bundled SmolLM2 GGUF as a public, promoted, validated model, once."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from limelight.config import Settings
from limelight.db.migrate import upgrade
from limelight.db.session import open_database
from limelight.demo.llm import LLM_MODEL, ensure_llm
from limelight.demo.setup import DEMO_ORG, _demo_principal
from limelight.orgs.bootstrap import initialize
from limelight.registry import repository


def test_the_demo_registers_smollm2_once(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'meta.db'}")
    db = open_database(settings.database_url)
    try:
        upgrade(db)
        initialize(db, org=DEMO_ORG, username="admin", password="a-long-enough-password")
        principal = _demo_principal(db)
        assert principal is not None
        console = Console(file=io.StringIO())
        ensure_llm(settings, db, principal, console)
        ensure_llm(settings, db, principal, console)  # a second start adds nothing
        with db.transaction(write=False) as session:
            model = repository.model_by_name(session, principal.org_id, LLM_MODEL)
            assert model is not None and model.visibility == "public" and model.latest_version == 1
            version = repository.version(session, model.id, 1)
            assert version is not None and version.runtime == "llm" and version.format == "gguf"
            assert version.validation and version.validation["status"] == "passed"
            assert repository.aliases(session, model.id) == {"production": 1}
        assert f"{DEMO_ORG}/{LLM_MODEL}:predict" in console.file.getvalue()  # type: ignore[attr-defined]
    finally:
        db.dispose()
