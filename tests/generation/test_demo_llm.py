"""The demo registers the bundled SmolLM2 GGUF as a public, promoted, validated model, once."""

from __future__ import annotations

from pathlib import Path

from limelight.demo.llm import LLM_MODEL, ensure_llm
from limelight.demo.setup import DEMO_ORG
from limelight.registry import repository
from tests.support.demo_home import demo_home


def test_the_demo_registers_smollm2_once(tmp_path: Path) -> None:
    with demo_home(tmp_path) as home:
        ensure_llm(home.settings, home.db, home.principal, home.console)
        ensure_llm(home.settings, home.db, home.principal, home.console)  # a second start adds nothing
        with home.db.transaction(write=False) as session:
            model = repository.model_by_name(session, home.principal.org_id, LLM_MODEL)
            assert model is not None and model.visibility == "public" and model.latest_version == 1
            version = repository.version(session, model.id, 1)
            assert version is not None and version.runtime == "llm" and version.format == "gguf"
            assert version.validation and version.validation["status"] == "passed"
            assert repository.aliases(session, model.id) == {"production": 1}
        assert f"{DEMO_ORG}/{LLM_MODEL}:predict" in home.printed()
