"""The whole app in the test's own process: create_app on a migrated database, driven through
Starlette's TestClient (ASGI, lifespan included), no subprocess and no socket.

For the rules of the management API, which need no real process: a live server (``live_server``)
stays for what does (uvicorn's protocol, signals, crashes, job workers, the browser).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from starlette.testclient import TestClient

from limelight.config import Settings
from limelight.db.migrate import upgrade
from limelight.db.session import open_database
from limelight.orgs.bootstrap import initialize
from limelight.server.app import create_app

ADMIN_PASSWORD = "in-process-admin-password"


@dataclass
class InProcessApp:
    client: TestClient  # authenticated as the admin of org ``org``
    org: str
    admin_key: str
    settings: Settings

    def as_key(self, key: str) -> TestClient:
        self.client.headers["Authorization"] = f"Bearer {key}"
        return self.client


@contextmanager
def in_process_app(home: Path, database_url: str, org: str = "studio") -> Iterator[InProcessApp]:
    settings = Settings(home=home, database_url=database_url, artifacts_url=(home / "artifacts").as_uri())
    db = open_database(database_url)
    try:
        upgrade(db)
        admin = initialize(db, org=org, username="admin", password=ADMIN_PASSWORD)
    finally:
        db.dispose()
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        client.headers["Authorization"] = f"Bearer {admin.api_key}"
        yield InProcessApp(client=client, org=org, admin_key=admin.api_key, settings=settings)


def add_tenant(app: InProcessApp, org: str, username: str) -> str:
    """Another org with its own owner; returns that owner's API key (every scope)."""
    from pydantic import SecretStr

    from limelight.auth import service as auth_service
    from limelight.orgs import service as orgs
    from limelight.schemas.tenancy import OrgCreate, Scope, UserCreate

    db = open_database(app.settings.database_url)
    try:
        with db.transaction() as session:
            user = orgs.create_user(session, None, UserCreate(username=username, password=SecretStr(ADMIN_PASSWORD)))
            created = orgs.create_org(session, None, OrgCreate(name=org), owner=user)
            return auth_service.issue_key(session, user_id=user.id, org_id=created.id, name="test",
                                          scopes=[s.value for s in Scope], actor="test")
    finally:
        db.dispose()
