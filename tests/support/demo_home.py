"""A migrated SQLite home with the demo org and its admin, as `limelight serve --demo` starts from."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from limelight.config import Settings
from limelight.db.migrate import upgrade
from limelight.db.session import open_database
from limelight.demo.setup import DEMO_ORG, _demo_principal
from limelight.orgs.bootstrap import initialize


@dataclass
class DemoHome:
    settings: Settings
    db: Any
    principal: Any
    console: Console

    @staticmethod
    def run_one_job(settings: Settings) -> None:
        """What `limelight serve --demo` runs for each demo job: the worker loop, for one job."""
        from limelight.workers.loop import run_worker

        run_worker(settings, max_jobs=1, install_signals=False)

    def printed(self) -> str:
        return self.console.file.getvalue()  # type: ignore[attr-defined]


@contextmanager
def demo_home(tmp_path: Path) -> Iterator[DemoHome]:
    settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'meta.db'}")
    db = open_database(settings.database_url)
    try:
        upgrade(db)
        initialize(db, org=DEMO_ORG, username="admin", password="a-long-enough-password")
        principal = _demo_principal(db)
        assert principal is not None
        yield DemoHome(settings, db, principal, Console(file=io.StringIO()))
    finally:
        db.dispose()
