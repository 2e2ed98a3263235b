"""The same repository and service tests on SQLite and PostgreSQL, on schemas built by Alembic."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import inspect, select

from limelight.audit import service as audit
from limelight.auth.principal import Principal
from limelight.db.base import Base, utcnow
from limelight.db.migrate import current_revision, head_revision
from limelight.db.models import Job
from limelight.events import repository as events_repo
from limelight.jobs import repository as jobs_repo
from limelight.orgs import service as orgs
from limelight.registry import service as registry
from limelight.schemas.registry import ModelCreate, Task, VersionMeta
from limelight.schemas.tenancy import OrgCreate, Role, Scope, UserCreate
from limelight.workers.loop import claim, reap_expired


def test_migrations_build_every_table_at_head(database):
    assert current_revision(database) == head_revision()
    with database.read_engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
    assert set(Base.metadata.tables) <= tables


def _principal(database) -> Principal:  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        user = orgs.create_user(session, None, UserCreate(username="ann", password=SecretStr("x" * 12)))
        org = orgs.create_org(session, None, OrgCreate(name="acme"), owner=user)
        return Principal(user_id=user.id, username="ann", org_id=org.id, org_name="acme", role=Role.owner,
                         scopes=frozenset(Scope))


def test_version_numbers_stay_unique_under_concurrent_writers(database):
    principal = _principal(database)
    with database.transaction() as session:
        registry.create_model(session, principal, "acme", ModelCreate(name="m", task=Task.classify))
    numbers: list[int] = []
    errors: list[Exception] = []

    def register() -> None:
        try:
            with database.transaction() as session:
                read = registry.register_version(session, principal, "acme", "m", sha256="a" * 64, size_bytes=1,
                                                 fmt="json", meta=VersionMeta(runtime="lightgbm"))
                numbers.append(read.version)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=register) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(numbers) == list(range(1, 13))


def _queue_job(database, principal: Principal) -> str:  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        job = Job(org_id=principal.org_id, recipe="classify/lightgbm", params={}, created_by="ann", max_attempts=1)
        session.add(job)
        session.flush()
        return job.id


def test_a_queued_job_is_claimed_exactly_once(database):
    principal = _principal(database)
    job_id = _queue_job(database, principal)
    results: list[str | None] = []
    threads = [threading.Thread(target=lambda i=i: results.append(claim(database, f"w{i}", 30))) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(job_id) == 1 and results.count(None) == 5


def test_an_expired_lease_is_reaped_and_a_live_one_is_not(database):
    principal = _principal(database)
    live, dead = _queue_job(database, principal), _queue_job(database, principal)
    assert {claim(database, "w1", 30), claim(database, "w2", 30)} == {live, dead}
    with database.transaction() as session:
        session.get(Job, dead).lease_expires_at = utcnow() - timedelta(seconds=1)
    assert reap_expired(database) == [dead]
    with database.transaction(write=False) as session:
        assert session.get(Job, dead).state == "failed"
        assert session.get(Job, live).state == "running"
        ours, _ = jobs_repo.heartbeat(session, live, "w-other", 30)
        assert ours is False


def test_events_insert_is_idempotent(database):
    principal = _principal(database)
    row = {"org_id": principal.org_id, "event_id": "e1", "user_id": "u", "item_id": "i", "type": "play",
           "value": None, "ts": 1.0, "received_at": utcnow()}
    for _ in range(2):
        with database.transaction() as session:
            events_repo.insert_ignoring_duplicates(session, [row, row | {"event_id": "e2"}])
    with database.transaction(write=False) as session:
        assert events_repo.existing_event_ids(session, principal.org_id, ["e1", "e2", "e3"]) == {"e1", "e2"}


def test_audit_entries_chain_across_transactions(database):
    principal = _principal(database)
    for i in range(3):
        with database.transaction() as session:
            audit.record(session, principal, "thing.do", "thing", str(i))
    with database.transaction(write=False) as session:
        result = audit.verify(session)
    assert result.ok and result.entries_checked >= 5  # user + org creation + the three above


def test_a_rolled_back_change_leaves_no_audit_entry(database):
    principal = _principal(database)
    with database.transaction(write=False) as session:
        before = audit.verify(session).entries_checked
    with pytest.raises(RuntimeError), database.transaction() as session:
        registry.create_model(session, principal, "acme", ModelCreate(name="ghost", task=Task.classify))
        raise RuntimeError("crash after the write, before commit")
    with database.transaction(write=False) as session:
        assert audit.verify(session).entries_checked == before
        from limelight.db.models import Model

        assert session.scalars(select(Model).where(Model.name == "ghost")).first() is None
