"""Organizations, users, memberships, sign-in and API keys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence

from limelight.client._base import Call, as_model, as_none, as_page, body, query, segment
from limelight.client._deprecated import warn_deprecated
from limelight.client._resource import AsyncResource, SyncResource
from limelight.schemas.common import Page
from limelight.schemas.metering import OrgQuotas, QuotaLimits
from limelight.schemas.tenancy import (
    InvitationCreated,
    InvitationRead,
    KeyCreated,
    KeyRead,
    LoginResponse,
    MemberRead,
    OrgRead,
    Role,
    Scope,
    UserRead,
    Whoami,
)

API = "/api/v1"


# ---- calls ---------------------------------------------------------------------------------

def _create_org(name: str, display_name: str) -> Call[OrgRead]:
    return Call("POST", f"{API}/orgs", as_model(OrgRead), json={"name": name, "display_name": display_name})


def _list_orgs(limit: int | None, cursor: str | None) -> Call[Page[OrgRead]]:
    return Call("GET", f"{API}/orgs", as_page(OrgRead), params=query(limit=limit, cursor=cursor))


def _quotas(org: str) -> Call[OrgQuotas]:
    return Call("GET", f"{API}/orgs/{segment(org)}/quotas", as_model(OrgQuotas))


def _set_quotas(org: str, limits: QuotaLimits) -> Call[OrgQuotas]:
    return Call("PUT", f"{API}/orgs/{segment(org)}/quotas", as_model(OrgQuotas), json=limits.model_dump(mode="json"))


def _create_user(username: str, password: str, is_admin: bool) -> Call[UserRead]:
    payload = {"username": username, "password": password, "is_admin": is_admin}
    return Call("POST", f"{API}/users", as_model(UserRead), json=payload)


def _add_member(org: str, username: str, role: Role | str) -> Call[MemberRead]:
    payload = {"username": username, "role": str(role)}
    return Call("POST", f"{API}/orgs/{segment(org)}/members", as_model(MemberRead), json=payload)


def _list_members(org: str, limit: int | None, cursor: str | None) -> Call[Page[MemberRead]]:
    return Call("GET", f"{API}/orgs/{segment(org)}/members", as_page(MemberRead),
                params=query(limit=limit, cursor=cursor))


def _remove_member(org: str, username: str) -> Call[None]:
    return Call("DELETE", f"{API}/orgs/{segment(org)}/members/{segment(username)}", as_none)


def _invite(org: str, role: Role | str, email: str | None, expires_in_hours: int | None) -> Call[InvitationCreated]:
    payload = body(role=str(role), email=email, expires_in_hours=expires_in_hours)
    return Call("POST", f"{API}/orgs/{segment(org)}/invitations", as_model(InvitationCreated), json=payload)


def _list_invitations(org: str) -> Call[Page[InvitationRead]]:
    return Call("GET", f"{API}/orgs/{segment(org)}/invitations", as_page(InvitationRead))


def _revoke_invitation(org: str, invitation_id: str) -> Call[None]:
    return Call("DELETE", f"{API}/orgs/{segment(org)}/invitations/{segment(invitation_id)}", as_none)


def _accept_invitation(token: str) -> Call[InvitationRead]:
    return Call("POST", f"{API}/invitations/accept", as_model(InvitationRead), json={"token": token})


def _register_by_invitation(token: str, username: str, password: str) -> Call[InvitationRead]:
    payload = {"token": token, "username": username, "password": password}
    return Call("POST", f"{API}/invitations/register", as_model(InvitationRead), json=payload)


def _login(username: str, password: str, org: str | None) -> Call[LoginResponse]:
    payload = body(username=username, password=password, org=org)
    return Call("POST", f"{API}/auth/login", as_model(LoginResponse), json=payload)


def _logout() -> Call[None]:
    return Call("POST", f"{API}/auth/logout", as_none)


def whoami_call() -> Call[Whoami]:
    """`Client.whoami` (and its deprecated alias ``client.auth.whoami``)."""
    return Call("GET", f"{API}/whoami", as_model(Whoami))


def _create_key(name: str, org: str, scopes: Sequence[Scope | str], expires_in_days: int | None) -> Call[KeyCreated]:
    payload = body(name=name, org=org, scopes=[str(s) for s in scopes], expires_in_days=expires_in_days)
    return Call("POST", f"{API}/keys", as_model(KeyCreated), json=payload)


def _list_keys(limit: int | None, cursor: str | None) -> Call[Page[KeyRead]]:
    return Call("GET", f"{API}/keys", as_page(KeyRead), params=query(limit=limit, cursor=cursor))


def _revoke_key(key_id: str) -> Call[KeyRead]:
    return Call("DELETE", f"{API}/keys/{segment(key_id)}", as_model(KeyRead))


DEFAULT_SCOPES: tuple[Scope, ...] = (Scope.read, Scope.predict)


# ---- sync ----------------------------------------------------------------------------------

class Orgs(SyncResource):
    def create(self, name: str, display_name: str = "") -> OrgRead:
        """Create an organization (system admins only); the caller becomes its owner."""
        return self._run(_create_org(name, display_name))

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> Page[OrgRead]:
        """The organizations the caller belongs to (every one, for a system admin)."""
        return self._run(_list_orgs(limit, cursor))

    def iter(self, *, limit: int | None = None) -> Iterator[OrgRead]:
        return self._iterate(lambda cursor: _list_orgs(limit, cursor))

    def quotas(self, org: str) -> OrgQuotas:
        """The org's monthly quotas (None: unlimited), what this UTC month used, what remains."""
        return self._run(_quotas(org))

    def set_quotas(self, org: str, *, requests_per_month: int | None = None,
                   compute_seconds_per_month: float | None = None, storage_bytes: int | None = None) -> OrgQuotas:
        """Replace the org's quotas (system admins); a quota left out is unlimited."""
        return self._run(_set_quotas(org, QuotaLimits(requests_per_month=requests_per_month, storage_bytes=storage_bytes,
                                                      compute_seconds_per_month=compute_seconds_per_month)))


class Users(SyncResource):
    def create(self, username: str, password: str, *, is_admin: bool = False) -> UserRead:
        """Create a user (system admins only); add them to an org with ``client.members.add``."""
        return self._run(_create_user(username, password, is_admin))


class Members(SyncResource):
    def add(self, org: str, username: str, role: Role | str = Role.member) -> MemberRead:
        return self._run(_add_member(org, username, role))

    def list(self, org: str, *, limit: int | None = None, cursor: str | None = None) -> Page[MemberRead]:
        return self._run(_list_members(org, limit, cursor))

    def iter(self, org: str, *, limit: int | None = None) -> Iterator[MemberRead]:
        return self._iterate(lambda cursor: _list_members(org, limit, cursor))

    def remove(self, org: str, username: str) -> None:
        self._run(_remove_member(org, username))


class Invitations(SyncResource):
    def create(self, org: str, role: Role | str = Role.member, *, email: str | None = None,
               expires_in_hours: int | None = None) -> InvitationCreated:
        """Invite someone to ``org`` (owners); ``.token`` and ``.accept_url`` are shown only now."""
        return self._run(_invite(org, role, email, expires_in_hours))

    def list(self, org: str) -> Page[InvitationRead]:
        """Every invitation of ``org``, newest first, with its status (never its token)."""
        return self._run(_list_invitations(org))

    def iter(self, org: str) -> Iterator[InvitationRead]:
        return self._iterate(lambda cursor: _list_invitations(org))

    def revoke(self, org: str, invitation_id: str) -> None:
        """Withdraw a pending invitation."""
        self._run(_revoke_invitation(org, invitation_id))

    def accept(self, token: str) -> InvitationRead:
        """Join the inviting org as the calling user."""
        return self._run(_accept_invitation(token))

    def register(self, token: str, username: str, password: str) -> InvitationRead:
        """Sign up by the invitation (no API key needed): a new account in the inviting org; then
        ``client.auth.login`` with it."""
        return self._run(_register_by_invitation(token, username, password))


class Auth(SyncResource):
    def login(self, username: str, password: str, org: str | None = None) -> LoginResponse:
        """Start a password session: later calls on this client use its cookie and CSRF token."""
        answer = self._run(_login(username, password, org))
        self._client._csrf_token = answer.csrf_token
        return answer

    def logout(self) -> None:
        """End the password session started by `login` (an API key stays valid)."""
        self._run(_logout())
        self._client._forget_session()

    def whoami(self) -> Whoami:
        """Deprecated alias of `Client.whoami`."""
        warn_deprecated("client.auth.whoami() is deprecated: use client.whoami()")
        return self._run(whoami_call())


class Keys(SyncResource):
    def create(self, name: str, org: str, scopes: Sequence[Scope | str] = DEFAULT_SCOPES, *,
               expires_in_days: int | None = None) -> KeyCreated:
        """Create an API key for the caller in ``org``; ``.key`` holds the secret, shown only now."""
        return self._run(_create_key(name, org, scopes, expires_in_days))

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> Page[KeyRead]:
        return self._run(_list_keys(limit, cursor))

    def iter(self, *, limit: int | None = None) -> Iterator[KeyRead]:
        return self._iterate(lambda cursor: _list_keys(limit, cursor))

    def revoke(self, key_id: str) -> KeyRead:
        return self._run(_revoke_key(key_id))


# ---- async ---------------------------------------------------------------------------------

class AsyncOrgs(AsyncResource):
    async def create(self, name: str, display_name: str = "") -> OrgRead:
        return await self._run(_create_org(name, display_name))

    async def list(self, *, limit: int | None = None, cursor: str | None = None) -> Page[OrgRead]:
        return await self._run(_list_orgs(limit, cursor))

    def iter(self, *, limit: int | None = None) -> AsyncIterator[OrgRead]:
        return self._iterate(lambda cursor: _list_orgs(limit, cursor))

    async def quotas(self, org: str) -> OrgQuotas:
        return await self._run(_quotas(org))

    async def set_quotas(self, org: str, *, requests_per_month: int | None = None,
                         compute_seconds_per_month: float | None = None,
                         storage_bytes: int | None = None) -> OrgQuotas:
        return await self._run(_set_quotas(org, QuotaLimits(
            requests_per_month=requests_per_month, storage_bytes=storage_bytes,
            compute_seconds_per_month=compute_seconds_per_month)))


class AsyncUsers(AsyncResource):
    async def create(self, username: str, password: str, *, is_admin: bool = False) -> UserRead:
        return await self._run(_create_user(username, password, is_admin))


class AsyncMembers(AsyncResource):
    async def add(self, org: str, username: str, role: Role | str = Role.member) -> MemberRead:
        return await self._run(_add_member(org, username, role))

    async def list(self, org: str, *, limit: int | None = None, cursor: str | None = None) -> Page[MemberRead]:
        return await self._run(_list_members(org, limit, cursor))

    def iter(self, org: str, *, limit: int | None = None) -> AsyncIterator[MemberRead]:
        return self._iterate(lambda cursor: _list_members(org, limit, cursor))

    async def remove(self, org: str, username: str) -> None:
        await self._run(_remove_member(org, username))


class AsyncInvitations(AsyncResource):
    async def create(self, org: str, role: Role | str = Role.member, *, email: str | None = None,
                     expires_in_hours: int | None = None) -> InvitationCreated:
        return await self._run(_invite(org, role, email, expires_in_hours))

    async def list(self, org: str) -> Page[InvitationRead]:
        return await self._run(_list_invitations(org))

    def iter(self, org: str) -> AsyncIterator[InvitationRead]:
        return self._iterate(lambda cursor: _list_invitations(org))

    async def revoke(self, org: str, invitation_id: str) -> None:
        await self._run(_revoke_invitation(org, invitation_id))

    async def accept(self, token: str) -> InvitationRead:
        return await self._run(_accept_invitation(token))

    async def register(self, token: str, username: str, password: str) -> InvitationRead:
        return await self._run(_register_by_invitation(token, username, password))


class AsyncAuth(AsyncResource):
    async def login(self, username: str, password: str, org: str | None = None) -> LoginResponse:
        answer = await self._run(_login(username, password, org))
        self._client._csrf_token = answer.csrf_token
        return answer

    async def logout(self) -> None:
        await self._run(_logout())
        self._client._forget_session()

    async def whoami(self) -> Whoami:
        """Deprecated alias of `AsyncClient.whoami`."""
        warn_deprecated("client.auth.whoami() is deprecated: use client.whoami()")
        return await self._run(whoami_call())


class AsyncKeys(AsyncResource):
    async def create(self, name: str, org: str, scopes: Sequence[Scope | str] = DEFAULT_SCOPES, *,
                     expires_in_days: int | None = None) -> KeyCreated:
        return await self._run(_create_key(name, org, scopes, expires_in_days))

    async def list(self, *, limit: int | None = None, cursor: str | None = None) -> Page[KeyRead]:
        return await self._run(_list_keys(limit, cursor))

    def iter(self, *, limit: int | None = None) -> AsyncIterator[KeyRead]:
        return self._iterate(lambda cursor: _list_keys(limit, cursor))

    async def revoke(self, key_id: str) -> KeyRead:
        return await self._run(_revoke_key(key_id))
