"""The person looking at a page: their principal, CSRF token, organizations, and what they may do.

The ``*Page`` and ``Form*`` aliases below declare a route's permission (``Requires`` /
``FormRequires``) and build the ``Viewer`` the templates use.
The templates hide controls the viewer lacks the permission for; the services refuse them anyway.
"""

# No "from __future__ import annotations": FastAPI must see the closure's Depends(requires) objects.
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from limelight.auth import service as auth_service
from limelight.auth.principal import Permission, Principal
from limelight.orgs import service as orgs_service
from limelight.schemas.tenancy import OrgRead
from limelight.server.deps import Requires, SessionDep
from limelight.ui.access import FormRequires


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    csrf_token: str
    orgs: list[OrgRead]

    @property
    def org(self) -> str:
        return self.principal.org_name

    @property
    def username(self) -> str:
        return self.principal.username

    @property
    def role(self) -> str:
        return self.principal.role.value

    def can(self, permission: str) -> bool:
        return self.principal.can(Permission(permission))


def build_viewer(request: Request, session: Any, principal: Principal) -> Viewer:
    cookie = request.cookies.get(auth_service.SESSION_COOKIE)
    csrf = auth_service.session_csrf(session, cookie) if cookie and principal.via_session else None
    return Viewer(principal=principal, csrf_token=csrf or "", orgs=orgs_service.list_orgs(session, principal))


def _viewer_of(requires: Requires) -> Callable[..., Viewer]:
    def viewer(request: Request, principal: Annotated[Principal, Depends(requires)], session: SessionDep) -> Viewer:
        return build_viewer(request, session, principal)

    return viewer


# GET pages (the permission is checked by ``Requires``; a browser without a session is redirected)
ReaderPage = Annotated[Viewer, Depends(_viewer_of(Requires(Permission.org_read)))]
SignedInPage = Annotated[Viewer, Depends(_viewer_of(Requires(Permission.authenticated)))]
MaintainerPage = Annotated[Viewer, Depends(_viewer_of(Requires(Permission.org_maintain)))]
# plain form posts (CSRF token from the hidden field)
FormSignedIn = Annotated[Viewer, Depends(_viewer_of(FormRequires(Permission.authenticated)))]
FormWriter = Annotated[Viewer, Depends(_viewer_of(FormRequires(Permission.org_write)))]
FormMaintainer = Annotated[Viewer, Depends(_viewer_of(FormRequires(Permission.org_maintain)))]
FormAdmin = Annotated[Viewer, Depends(_viewer_of(FormRequires(Permission.org_admin)))]
