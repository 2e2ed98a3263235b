"""The audit log (filterable) and API keys (create shows the key once; revoke)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import RedirectResponse

from limelight.audit import service as audit
from limelight.auth import service as auth_service
from limelight.schemas.common import Name
from limelight.schemas.tenancy import KeyCreate, KeyCreated, Scope
from limelight.server.deps import SessionDep, StateDep
from limelight.ui.access import PageRoute
from limelight.ui.rendering import render
from limelight.ui.viewer import FormSignedIn, MaintainerPage, SignedInPage, Viewer

router = APIRouter(route_class=PageRoute, include_in_schema=False)

AUDIT_PAGE_SIZE = 50


@router.get("/audit")
def audit_page(request: Request, viewer: MaintainerPage, session: SessionDep,
               action: Annotated[str | None, Query(max_length=64)] = None,
               actor: Annotated[str | None, Query(max_length=100)] = None,
               object_type: Annotated[str | None, Query(max_length=32)] = None,
               cursor: Annotated[str | None, Query(max_length=32)] = None) -> Response:
    filters = {"action": action or None, "actor": actor or None, "object_type": object_type or None}
    entries, next_cursor = audit.list_entries(session, viewer.principal, viewer.org, cursor=cursor,
                                              limit=AUDIT_PAGE_SIZE, **filters)
    return render(request, "audit.html", {"viewer": viewer, "entries": entries, "next_cursor": next_cursor,
                                          "filters": {k: v or "" for k, v in filters.items()}})


@router.get("/keys")
def keys_page(request: Request, viewer: SignedInPage, session: SessionDep) -> Response:
    return _keys(request, viewer, session, created=None)


def _keys(request: Request, viewer: Viewer, session: object, created: KeyCreated | None,
          status_code: int = 200) -> Response:
    keys = auth_service.list_keys(session, viewer.principal)  # type: ignore[arg-type]
    scopes = [s.value for s in Scope if s in viewer.principal.scopes]
    return render(request, "keys.html", {"viewer": viewer, "keys": keys, "created": created, "scopes": scopes},
                  status_code=status_code)


@router.post("/keys")
def create_key(request: Request, viewer: FormSignedIn, session: SessionDep,
               name: Annotated[Name, Form()], scopes: Annotated[list[Scope], Form()],
               expires_in_days: Annotated[int | None, Form(ge=1, le=3650)] = None) -> Response:
    body = KeyCreate(name=name, org=viewer.org, scopes=scopes, expires_in_days=expires_in_days)
    created = auth_service.create_key(session, viewer.principal, body)
    return _keys(request, viewer, session, created=created, status_code=201)


@router.post("/keys/{key_id}/revoke")
def revoke_key(key_id: Annotated[str, Path(max_length=64)], viewer: FormSignedIn, session: SessionDep,
               state: StateDep) -> Response:
    auth_service.revoke_key(session, viewer.principal, key_id, state.key_cache)
    return RedirectResponse("/keys?notice=key-revoked", status_code=303)
