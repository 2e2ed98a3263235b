"""The job lifecycle's rules, in process on both databases: retry-or-fail, reaping, who a job acts
as, the promotion gate and when retraining is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from limelight.auth.delegation import acting_for
from limelight.db.base import utcnow
from limelight.db.models import Job, JobLog, Membership, Org
from limelight.db.session import Database
from limelight.errors import LimelightError
from limelight.jobs import lifecycle
from limelight.jobs.retrain import is_due
from limelight.orgs.bootstrap import initialize
from limelight.registry import repository as registry_repo
from limelight.registry import service as registry
from limelight.schemas.registry import Task, VersionMeta
from limelight.schemas.tenancy import Role

ORG, OWNER = "studio", "ann"


@pytest.fixture
def studio(database: Database) -> Database:
    initialize(database, org=ORG, username=OWNER, password="correct-horse-battery-staple")
    return database


def _org_id(db: Database) -> str:
    with db.transaction(write=False) as session:
        return session.scalars(select(Org.id).where(Org.name == ORG)).one()


def _queued_job(db: Database, max_attempts: int) -> str:
    with db.transaction() as session:
        job = Job(org_id=_org_id(db), recipe="recommend/popularity", params={}, created_by=OWNER,
                  max_attempts=max_attempts)
        session.add(job)
        session.flush()
        return job.id


def _job(db: Database, job_id: str) -> tuple[Job, list[str]]:
    with db.transaction(write=False) as session:
        job = session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
        logs = list(session.scalars(select(JobLog.message).where(JobLog.job_id == job_id).order_by(JobLog.seq)))
        return job, logs


def test_a_failed_attempt_is_requeued_while_attempts_remain_then_the_job_fails(studio: Database) -> None:
    job_id = _queued_job(studio, max_attempts=2)
    assert lifecycle.claim(studio, "w1", 60) == job_id
    assert lifecycle.fail(studio, job_id, "w1", "boom one") == "queued"
    job, logs = _job(studio, job_id)
    assert (job.state, job.lease_owner, job.message) == ("queued", None, "attempt 1 failed; re-queued")
    assert logs == ["boom one", "attempt 1 failed; re-queued"]

    assert lifecycle.claim(studio, "w2", 60) == job_id
    assert lifecycle.fail(studio, job_id, "w2", "boom two") == "failed"
    job, _ = _job(studio, job_id)
    assert (job.state, job.error, job.attempts) == ("failed", "boom two", 2)


def test_an_attempt_that_fails_after_a_cancel_request_ends_cancelled_not_retried(studio: Database) -> None:
    # the cancel's SIGTERM can land inside a library's own `except Exception` and come back as an error
    job_id = _queued_job(studio, max_attempts=3)
    lifecycle.claim(studio, "w1", 60)
    with studio.transaction() as session:
        session.get(Job, job_id).cancel_requested = True  # type: ignore[union-attr]
    assert lifecycle.fail(studio, job_id, "w1", "JobCancelled: inside a fit") == "cancelled"
    job, logs = _job(studio, job_id)
    assert (job.state, job.error, job.attempts) == ("cancelled", "cancelled", 1)
    assert logs[-1] == "cancelled"
    assert lifecycle.claim(studio, "w2", 60) is None


def test_a_worker_that_lost_its_lease_cannot_fail_the_job(studio: Database) -> None:
    job_id = _queued_job(studio, max_attempts=1)
    lifecycle.claim(studio, "w1", 60)
    assert lifecycle.fail(studio, job_id, "someone-else", "late") == "lost"
    assert _job(studio, job_id)[0].state == "running"


def test_an_expired_lease_is_reaped_by_the_same_retry_or_fail_rule(studio: Database) -> None:
    job_id = _queued_job(studio, max_attempts=2)
    for attempt, expected in ((1, "queued"), (2, "failed")):
        assert lifecycle.claim(studio, f"w{attempt}", 60) == job_id
        with studio.transaction() as session:
            session.get(Job, job_id).lease_expires_at = utcnow() - timedelta(seconds=1)  # type: ignore[union-attr]
        assert lifecycle.reap_expired(studio) == [job_id]
        job, logs = _job(studio, job_id)
        assert job.state == expected
    assert "worker lost during attempt 1; re-queued" in logs
    assert job.error == "worker lost: its lease expired"
    assert lifecycle.reap_expired(studio) == []


def test_work_acts_as_its_submitter_with_their_current_role_and_not_after_they_left(studio: Database) -> None:
    org_id = _org_id(studio)
    with studio.transaction() as session:
        principal = acting_for(session, org_id, OWNER, request_id="job:1")
        assert (principal.username, principal.org_name, principal.role) == (OWNER, ORG, Role.owner)
        for member in session.scalars(select(Membership).where(Membership.org_id == org_id)):
            session.delete(member)
        session.flush()
        with pytest.raises(LimelightError, match="no longer a member"):
            acting_for(session, org_id, OWNER, request_id="job:1")
        with pytest.raises(LimelightError):
            acting_for(session, org_id, "nobody", request_id="job:1")


def _version(session, principal, metric: float) -> int:  # type: ignore[no-untyped-def]
    meta = VersionMeta(runtime="onnx", format="onnx", metrics={"ndcg@10": metric})
    return registry.register_version(session, principal, ORG, "recs", sha256=f"{int(metric * 1000):064d}",
                                     size_bytes=1, fmt="onnx", meta=meta).version


def test_the_promotion_gate_moves_the_alias_only_to_a_version_at_least_as_good(studio: Database) -> None:
    with studio.transaction() as session:
        principal = acting_for(session, _org_id(studio), OWNER, request_id="test")
        registry.ensure_model(session, principal, ORG, "recs", Task.recommend)
        gates = []
        for metric in (0.30, 0.25, 0.35):
            number = _version(session, principal, metric)
            gates.append(registry.promote_if_better(session, principal, "recs", number, alias="production",
                                                    metric="ndcg@10", metrics={"ndcg@10": metric}))
        model = registry_repo.model_by_name(session, principal.org_id, "recs")
        assert model is not None
        assert registry_repo.aliases(session, model.id)["production"] == 3
    assert [g["passed"] for g in gates] == [True, False, True]
    assert gates[1]["current"] == 0.30 and gates[1]["current_version"] == 1


def test_retraining_is_due_on_age_or_on_new_events() -> None:
    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    policy = {"every_hours": 24, "last_submitted_at": (now - timedelta(hours=23)).isoformat()}
    assert not is_due(policy, now=now, new_events=10**6)
    assert is_due(policy, now=now + timedelta(hours=1), new_events=0)
    by_events = {"after_events": 100, "last_submitted_at": now.isoformat()}
    assert not is_due(by_events, now=now, new_events=99)
    assert is_due(by_events, now=now, new_events=100)
