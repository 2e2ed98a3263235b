"""Who is calling, and the one policy table that says what each permission needs.

Every route declares one ``Permission``; services call ``authorize`` before touching an object of
an org. A principal acts inside exactly one org (the org of its API key or the UI's current org);
anything of another org is reported as missing (404), never as forbidden, so names don't leak.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from limelight.errors import Forbidden, NotFound
from limelight.schemas.tenancy import Role, Scope

ROLE_RANK = {Role.viewer: 0, Role.member: 1, Role.maintainer: 2, Role.owner: 3}


class Permission(StrEnum):
    public = "public"
    authenticated = "authenticated"
    org_read = "org:read"
    org_predict = "org:predict"
    org_write = "org:write"
    org_maintain = "org:maintain"
    org_admin = "org:admin"
    system_admin = "system:admin"
    metrics_scrape = "metrics:scrape"  # no principal holds it: only the operator's scrape token


# permission -> (lowest role, scope the key must carry)
POLICY: dict[Permission, tuple[Role, Scope]] = {
    Permission.org_read: (Role.viewer, Scope.read),
    Permission.org_predict: (Role.viewer, Scope.predict),
    Permission.org_write: (Role.member, Scope.write),
    Permission.org_maintain: (Role.maintainer, Scope.write),
    Permission.org_admin: (Role.owner, Scope.admin),
}


@dataclass(frozen=True)
class Principal:
    user_id: str
    username: str
    org_id: str
    org_name: str
    role: Role
    scopes: frozenset[Scope]
    is_admin: bool = False
    key_id: str | None = None
    client_addr: str | None = None
    request_id: str | None = None
    via_session: bool = field(default=False)

    @property
    def actor(self) -> str:
        return f"user:{self.username}" + (f" key:{self.key_id[:8]}" if self.key_id else "")

    def can(self, permission: Permission) -> bool:
        if permission in (Permission.public, Permission.authenticated):
            return True
        if permission is Permission.metrics_scrape:
            return False
        if permission is Permission.system_admin:
            return self.is_admin and Scope.admin in self.scopes
        role, scope = POLICY[permission]
        return ROLE_RANK[self.role] >= ROLE_RANK[role] and scope in self.scopes

    def refusal(self, permission: Permission) -> Forbidden:
        """Why this principal may not do what ``permission`` guards, and what to do about it."""
        details: dict[str, object] = {"permission": permission.value}
        if permission is Permission.system_admin or permission not in POLICY:
            if not self.is_admin:
                return Forbidden("This needs a system administrator's account.", details=details)
            return Forbidden("This key lacks the admin scope, which system administration needs: create one with "
                             "`limelight keys create NAME --scope admin` (or on the console's API keys page).",
                             details={**details, "missing_scope": Scope.admin.value})
        role, scope = POLICY[permission]
        if ROLE_RANK[self.role] < ROLE_RANK[role]:
            return Forbidden(f"Your role in org {self.org_name!r} is {self.role.value}; this needs {role.value} or "
                             f"higher. Ask an owner of {self.org_name!r} to change your role.",
                             details={**details, "role": self.role.value, "needs_role": role.value})
        held = ", ".join(sorted(s.value for s in self.scopes)) or "none"
        return Forbidden(f"This key lacks the {scope.value} scope (it has: {held}). Create a key with it: "
                         f"`limelight keys create NAME --scope {scope.value}` (or on the console's API keys page).",
                         details={**details, "missing_scope": scope.value})

    def foreign_org(self, org_name: str) -> NotFound:
        """Another org's objects are missing to this principal; the message says which org it acts in,
        whether or not ``org_name`` exists."""
        if self.key_id is not None:
            return NotFound(f"Organization {org_name!r} not found for this key: it is bound to org "
                            f"{self.org_name!r}. Each key belongs to one org; use a key created in {org_name!r}.")
        return NotFound(f"Organization {org_name!r} not found: you are working in org {self.org_name!r}; "
                        "switch organization in the console to work in another.")

    def with_request(self, client_addr: str | None, request_id: str | None) -> Principal:
        from dataclasses import replace

        return replace(self, client_addr=client_addr, request_id=request_id)


def authorize(principal: Principal, permission: Permission, org_name: str | None = None) -> None:
    """Raise unless ``principal`` holds ``permission`` in ``org_name`` (404 for a foreign org)."""
    if org_name is not None and org_name != principal.org_name:
        raise principal.foreign_org(org_name)
    if not principal.can(permission):
        raise principal.refusal(permission)
