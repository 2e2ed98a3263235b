"""HTTP routes of online experiments on a model."""

from __future__ import annotations

from fastapi import APIRouter

from limelight.experiments import service
from limelight.schemas.common import ErrorBody, Name
from limelight.schemas.experiments import DecideRequest, ExperimentCreate, ExperimentRead
from limelight.server.deps import Maintainer, Reader, SessionDep

router = APIRouter(prefix="/api/v1/orgs/{org}", tags=["experiments"],
                   responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 404: {"model": ErrorBody}})
_MODEL = "/models/{name}/experiments"


@router.post(_MODEL, response_model=ExperimentRead, status_code=201,
             responses={409: {"model": ErrorBody}, 422: {"model": ErrorBody}})
def start_experiment(org: Name, name: Name, body: ExperimentCreate, principal: Maintainer,
                     session: SessionDep) -> ExperimentRead:
    """Split the model's traffic between aliases (sticky per end user) until it is stopped or decided."""
    return service.start(session, principal, org, name, body)


@router.get(_MODEL, response_model=list[ExperimentRead])
def list_experiments(org: Name, name: Name, principal: Reader, session: SessionDep) -> list[ExperimentRead]:
    return service.list_for_model(session, principal, org, name)


@router.get("/experiments", response_model=list[ExperimentRead])
def list_org_experiments(org: Name, principal: Reader, session: SessionDep) -> list[ExperimentRead]:
    """Every experiment of the org, newest first (without results)."""
    return service.list_for_org(session, principal, org)


@router.get(_MODEL + "/{experiment_id}", response_model=ExperimentRead)
def get_experiment(org: Name, name: Name, experiment_id: str, principal: Reader,
                   session: SessionDep) -> ExperimentRead:
    """Per variant: impressions, CTR, completion rate and watch time with 95% intervals, the primary
    metric against the control, guardrails, and what the decision rule says now."""
    return service.get(session, principal, org, name, experiment_id)


@router.post(_MODEL + "/{experiment_id}/stop", response_model=ExperimentRead, responses={409: {"model": ErrorBody}})
def stop_experiment(org: Name, name: Name, experiment_id: str, principal: Maintainer,
                    session: SessionDep) -> ExperimentRead:
    return service.stop(session, principal, org, name, experiment_id)


@router.post(_MODEL + "/{experiment_id}/decide", response_model=ExperimentRead,
             responses={409: {"model": ErrorBody}, 422: {"model": ErrorBody}})
def decide_experiment(org: Name, name: Name, experiment_id: str, body: DecideRequest, principal: Maintainer,
                      session: SessionDep) -> ExperimentRead:
    """Apply the decision rule now: promote the winner to ``production``, keep the control, or roll
    back a variant that breaches a guardrail (``dry_run``: only report it). Audited."""
    return service.decide(session, principal, org, name, experiment_id, dry_run=body.dry_run)
