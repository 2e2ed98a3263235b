"""Organizations, users, memberships, invitations, API keys, sign-in."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field, SecretStr, StrictBool

from limelight.schemas.common import Name, ReadSchema, Schema


class Role(StrEnum):
    owner = "owner"
    maintainer = "maintainer"
    member = "member"
    viewer = "viewer"


class Scope(StrEnum):
    read = "read"
    predict = "predict"
    write = "write"
    admin = "admin"


class OrgCreate(Schema):
    name: Name
    display_name: str = Field("", max_length=200)


class OrgRead(ReadSchema):
    id: str
    name: str
    display_name: str
    created_at: datetime
    role: Role | None = Field(None, description="the caller's role in this org")


class UserCreate(Schema):
    username: Name
    password: SecretStr = Field(..., min_length=10, max_length=256)
    is_admin: StrictBool = False  # a system admin is made by a JSON true, never by 1 or "yes"


class UserRead(ReadSchema):
    id: str
    username: str
    is_admin: bool
    created_at: datetime


class MemberAdd(Schema):
    username: Name
    role: Role = Role.member


class MemberRead(ReadSchema):
    username: str
    role: Role
    org: str


class InvitationCreate(Schema):
    role: Role = Role.member
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                              description="whom the token is meant for (recorded; limelight sends no mail)")
    expires_in_hours: int = Field(168, ge=1, le=720, description="1 hour to 30 days; a week by default")


class InvitationStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    expired = "expired"
    revoked = "revoked"


class InvitationRead(ReadSchema):
    id: str
    org: str
    role: Role
    email: str | None
    status: InvitationStatus
    created_by: str
    created_at: datetime
    expires_at: datetime
    accepted_by: str | None = None
    accepted_at: datetime | None = None


class InvitationCreated(InvitationRead):
    token: str = Field(..., description="the secret the invitee presents, shown once; send it or the link")
    accept_url: str = Field(..., description="the console page that accepts it, relative to the server")


class InvitationAccept(Schema):
    token: str = Field(..., min_length=16, max_length=128)


class InvitationRegister(Schema):
    """Sign up by an invitation: a new account, a member of the inviting org with the invitation's role."""

    token: str = Field(..., min_length=16, max_length=128)
    username: Name
    password: SecretStr = Field(..., min_length=10, max_length=256)


class KeyCreate(Schema):
    name: Name
    org: Name
    scopes: list[Scope] = Field(default_factory=lambda: [Scope.read, Scope.predict])
    expires_in_days: int | None = Field(None, ge=1, le=3650)


class KeyRead(ReadSchema):
    id: str
    name: str
    org: str
    username: str
    scopes: list[Scope]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class KeyCreated(KeyRead):
    key: str = Field(..., description="the secret, shown once; store it now")


class LoginRequest(Schema):
    username: str = Field(..., max_length=64)
    password: SecretStr = Field(..., max_length=256)
    org: Name | None = None


class LoginResponse(ReadSchema):
    username: str
    org: str | None
    csrf_token: str


class Whoami(ReadSchema):
    username: str
    org: str
    role: Role
    scopes: list[Scope]
    is_admin: bool
