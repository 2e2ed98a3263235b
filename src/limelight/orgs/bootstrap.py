"""First-run set-up: the first org, its admin user and an admin key, on an empty install only."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from limelight.auth import service as auth_service
from limelight.db.session import Database
from limelight.errors import Conflict
from limelight.orgs import repository, service
from limelight.schemas.tenancy import OrgCreate, Scope, UserCreate


@dataclass(frozen=True)
class Bootstrapped:
    org: str
    username: str
    api_key: str


def initialize(db: Database, *, org: str, username: str, password: str) -> Bootstrapped:
    with db.transaction() as session:
        if repository.count_users(session) > 0:
            raise Conflict("This install is already initialised; use an admin key to add orgs and users.")
        user = service.create_user(session, None, UserCreate(username=username, password=SecretStr(password),
                                                             is_admin=True))
        created = service.create_org(session, None, OrgCreate(name=org), owner=user)
        key = auth_service.issue_key(session, user_id=user.id, org_id=created.id, name="init",
                                     scopes=[s.value for s in Scope], actor="system:init")
    return Bootstrapped(org=org, username=username, api_key=key)
