"""What the database keeps for the marketplace follows every write, on SQLite and PostgreSQL: the
full-text index, the showcase runtime, star counts and daily usage (migration 0005's triggers)."""

from __future__ import annotations

import time

from pydantic import SecretStr
from sqlalchemy import delete, select, text

from limelight.auth.principal import Principal
from limelight.db.models import ModelUsageDaily, Org
from limelight.marketplace import repository
from limelight.marketplace import service as marketplace
from limelight.marketplace.query import parse_text
from limelight.monitoring import service as monitoring
from limelight.monitoring.rollups import RollupBuffer
from limelight.orgs import service as orgs
from limelight.registry import service as registry
from limelight.schemas.registry import ModelCreate, Task, VersionMeta
from limelight.schemas.tenancy import OrgCreate, Role, Scope, UserCreate

DAY_S = 86400


def _owner(database, org: str = "acme", user: str = "ann") -> Principal:  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        made = orgs.create_user(session, None, UserCreate(username=user, password=SecretStr("x" * 12)))
        owner = orgs.create_org(session, None, OrgCreate(name=org), owner=made)
        return Principal(user_id=made.id, username=user, org_id=owner.id, org_name=org, role=Role.owner,
                         scopes=frozenset(Scope))


def _found(database, principal: Principal, q: str) -> list[str]:  # type: ignore[no-untyped-def]
    with database.transaction(write=False) as session:
        hits = repository.search(session, principal.org_id, repository.Filters(text=parse_text(q)), sort="relevance",
                                 after=None, limit=50).hits
    return [hit.model.name for hit in hits]


def test_deleting_an_org_takes_its_models_out_of_the_index(database):
    ann = _owner(database)
    with database.transaction() as session:
        registry.create_model(session, ann, "acme", ModelCreate(name="whale-song", task=Task.classify,
                                                                  visibility="public"))
    bob = _owner(database, "beta", "bob")
    assert _found(database, bob, "whale") == ["whale-song"]
    with database.transaction() as session:
        session.execute(delete(Org).where(Org.id == ann.org_id))  # cascades to the models
    assert _found(database, bob, "whale") == []
    if database.is_sqlite:
        with database.read_engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM models_fts_rowids")).scalar_one() == 0
            assert conn.execute(text("SELECT count(*) FROM models_fts")).scalar_one() == 0


def test_showcase_follows_versions_and_the_production_alias(database):
    ann = _owner(database)

    def runtime() -> str | None:
        with database.transaction(write=False) as session:
            return session.execute(text("SELECT showcase_runtime FROM models WHERE name = 'm'")).scalar_one()

    with database.transaction() as session:
        registry.create_model(session, ann, "acme", ModelCreate(name="m", task=Task.classify))
    assert runtime() is None
    for rt in ("sklearn", "lightgbm"):
        with database.transaction() as session:
            registry.register_version(session, ann, "acme", "m", sha256="a" * 64, size_bytes=1, fmt="json",
                                      meta=VersionMeta(runtime=rt))
    assert runtime() == "lightgbm"
    with database.transaction() as session:
        registry.set_alias(session, ann, "acme", "m", "staging", 1)
    assert runtime() == "lightgbm"  # only production counts
    with database.transaction() as session:
        registry.set_alias(session, ann, "acme", "m", "production", 1)
    assert runtime() == "sklearn"
    with database.transaction() as session:
        registry.set_alias(session, ann, "acme", "m", "production", 2)
    assert runtime() == "lightgbm"
    with database.transaction() as session:
        registry.delete_alias(session, ann, "acme", "m", "production")
        registry.delete_version(session, ann, "acme", "m", 2)
    assert runtime() == "sklearn"


def test_star_counts_follow_stars_and_deleted_models_take_theirs(database):
    ann = _owner(database)
    bob = _owner(database, "beta", "bob")
    with database.transaction() as session:
        registry.create_model(session, ann, "acme", ModelCreate(name="m", task=Task.classify, visibility="public"))
    for who in (ann, bob, bob):
        with database.transaction() as session:
            read = marketplace.star(session, who, "acme", "m")
    assert read.stars == 2
    with database.transaction() as session:
        assert marketplace.unstar(session, bob, "acme", "m").stars == 1
        assert marketplace.unstar(session, bob, "acme", "m").stars == 1
        registry.delete_model(session, ann, "acme", "m")
    with database.read_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM model_stars")).scalar_one() == 0


def test_usage_adds_up_hourly_rollups_per_day_and_forgets_old_days(database):
    ann = _owner(database)
    with database.transaction() as session:
        registry.create_model(session, ann, "acme", ModelCreate(name="m", task=Task.classify))
    now = time.time()
    for clock in (now, now, now - 40 * DAY_S):  # two flushes now (an insert, then an update), one long ago
        buffer = RollupBuffer(clock=lambda clock=clock: clock)  # type: ignore[misc]
        for _ in range(3):
            buffer.observe("acme/m", 1, 200, 0.01)
        with database.transaction() as session:
            monitoring.store_counts(session, buffer.take())
    with database.transaction(write=False) as session:
        days = session.execute(select(ModelUsageDaily.day_s, ModelUsageDaily.requests)).all()
        hits = repository.search(session, ann.org_id, repository.Filters(), sort="usage", after=None, limit=5,
                                 usage_since_s=marketplace.usage_since_s(now)).hits
    assert [(day, requests) for day, requests in days if day >= int(now) // DAY_S * DAY_S] == [
        (int(now) // DAY_S * DAY_S, 6)]
    assert [(hit.model.name, hit.key) for hit in hits] == [("m", 6)]  # the 40-day-old day is outside the window
    with database.transaction() as session:  # a new hour's first row drops days older than kept
        buffer = RollupBuffer(clock=lambda: now + 3600)
        buffer.observe("acme/m", 1, 200, 0.01)
        monitoring.store_counts(session, buffer.take())
    with database.transaction(write=False) as session:
        oldest = session.execute(select(ModelUsageDaily.day_s).order_by(ModelUsageDaily.day_s)).scalars().first()
    assert oldest is not None and oldest >= int(now) // DAY_S * DAY_S - 35 * DAY_S
