"""HTTP routes of deployments."""

from __future__ import annotations

from fastapi import APIRouter

from limelight.deployments import service
from limelight.schemas.common import ErrorBody, Name
from limelight.schemas.registry import DeploymentRead, DeploymentSpec
from limelight.server.deps import Maintainer, Reader, SessionDep

router = APIRouter(prefix="/api/v1/orgs/{org}/deployments", tags=["deployments"],
                   responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 404: {"model": ErrorBody}})


@router.put("/{name}", response_model=DeploymentRead)
def put_deployment(org: Name, name: Name, spec: DeploymentSpec, principal: Maintainer, session: SessionDep) -> DeploymentRead:
    return service.put(session, principal, org, name, spec)


@router.delete("/{name}", status_code=204)
def delete_deployment(org: Name, name: Name, principal: Maintainer, session: SessionDep) -> None:
    """Removes the deployment: calls go to the production alias again, else to the latest version."""
    service.delete(session, principal, org, name)


@router.get("/{name}", response_model=DeploymentRead)
def get_deployment(org: Name, name: Name, principal: Reader, session: SessionDep) -> DeploymentRead:
    return service.get(session, principal, org, name)
