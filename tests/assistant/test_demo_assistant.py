"""The demo uploads the shipped help centre as a documents zip and trains the support assistant, once."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from limelight.config import Settings
from limelight.datasets import repository as dataset_repo
from limelight.db.migrate import upgrade
from limelight.db.session import open_database
from limelight.demo.setup import DEMO_ASSISTANT, DEMO_ORG, _demo_principal, _ensure_assistant
from limelight.orgs.bootstrap import initialize
from limelight.registry import repository


def test_the_demo_trains_the_support_assistant_once(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'meta.db'}")
    db = open_database(settings.database_url)
    try:
        upgrade(db)
        initialize(db, org=DEMO_ORG, username="admin", password="a-long-enough-password")
        principal = _demo_principal(db)
        assert principal is not None
        console = Console(file=io.StringIO())
        _ensure_assistant(settings, db, principal, console)
        _ensure_assistant(settings, db, principal, console)  # a second start adds nothing
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
        assert "Support assistant ready" in console.file.getvalue()  # type: ignore[attr-defined]
    finally:
        db.dispose()
