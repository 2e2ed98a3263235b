"""The demo uploads the shipped help centre as a documents zip and trains the support assistant, once."""

from __future__ import annotations

from pathlib import Path

from limelight.datasets import repository as dataset_repo
from limelight.demo.setup import DEMO_ASSISTANT, _ensure_assistant
from limelight.registry import repository
from tests.support.demo_home import demo_home


def test_the_demo_trains_the_support_assistant_once(tmp_path: Path) -> None:
    with demo_home(tmp_path) as home:
        settings, db, principal, console = home.settings, home.db, home.principal, home.console
        _ensure_assistant(settings, db, principal, console, home.run_one_job)
        _ensure_assistant(settings, db, principal, console, home.run_one_job)  # a second start adds nothing
        with db.transaction(write=False) as session:
            dataset = dataset_repo.by_name(session, principal.org_id, "help-center")
            assert dataset is not None and dataset.kind == "documents" and dataset.latest_version == 1
            version_row = dataset_repo.version(session, dataset.id, 1)
            assert version_row is not None and version_row.source_format == "zip" and version_row.rows == 45
            model = repository.model_by_name(session, principal.org_id, DEMO_ASSISTANT)
            assert model is not None and model.latest_version == 1
            version = repository.version(session, model.id, 1)
            assert version is not None and version.runtime == "assistant"
            assert repository.aliases(session, model.id) == {"production": 1}
        assert "Support assistant ready" in home.printed()
