"""Authentication (API keys, UI sessions) and API key management."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from limelight.audit import service as audit
from limelight.auth import repository
from limelight.auth.cache import KeyCache
from limelight.auth.keys import generate_key, parse_key, secret_matches
from limelight.auth.passwords import verify_password
from limelight.auth.principal import Permission, Principal, authorize
from limelight.auth.throttle import Failure, LoginThrottle
from limelight.db.base import utcnow
from limelight.db.models import ApiKey, UiSession, User
from limelight.db.session import Database
from limelight.errors import Forbidden, LoginThrottled, NotFound, Unauthenticated
from limelight.schemas.tenancy import KeyCreate, KeyCreated, KeyRead, Role, Scope

SESSION_COOKIE = "limelight_session"
CSRF_HEADER = "x-csrf-token"
ALL_SCOPES = frozenset(Scope)
KEY_TOUCH_INTERVAL_S = 60


@dataclass(frozen=True)
class Credentials:
    """What a request presents to say who sent it, read off the request by the web layer."""

    authorization: str = ""  # the Authorization header
    session_cookie: str | None = None
    csrf_token: str = ""  # the CSRF header, required with a session cookie on unsafe methods
    unsafe_method: bool = False  # anything but GET, HEAD and OPTIONS
    client_addr: str | None = None
    request_id: str | None = None


# the next step every refused key's message names
_NEW_KEY = "create a new key on the console's API keys page or with `limelight keys create NAME`"


def authenticate(db: Database, key_cache: KeyCache, credentials: Credentials) -> Principal:
    """The caller: an API key (``Bearer``) if one is given, else a UI session cookie, else 401."""
    client, request_id = credentials.client_addr, credentials.request_id
    if credentials.authorization:
        scheme, _, raw = credentials.authorization.partition(" ")
        if scheme.lower() != "bearer" or not raw:
            raise Unauthenticated("Use 'Authorization: Bearer <api key>'.")
        return authenticate_key(db, key_cache, raw.strip()).with_request(client, request_id)
    if credentials.session_cookie:
        principal = _authenticate_session(db, credentials)
        return principal.with_request(client, request_id)
    raise Unauthenticated()


def authenticate_key(db: Database, key_cache: KeyCache, raw: str) -> Principal:
    cached = key_cache.get(raw)
    if cached is not None:
        return cached
    parsed = parse_key(raw)
    if parsed is None:
        raise Unauthenticated("Malformed API key: keys start with 'll_'; check it was copied whole.")
    key_id, secret = parsed
    with db.transaction(write=False) as session:
        found = repository.key_with_context(session, key_id)
        if found is None:
            raise Unauthenticated(f"Unknown API key: check it was copied whole (a key is shown only once); {_NEW_KEY}.")
        key, user, org, membership = found
        if not secret_matches(secret, key.secret_hash):
            raise Unauthenticated(f"Unknown API key: check it was copied whole (a key is shown only once); {_NEW_KEY}.")
        now = utcnow()
        if key.revoked_at is not None:
            raise Unauthenticated(f"This API key was revoked: {_NEW_KEY}.")
        if key.expires_at is not None and key.expires_at <= now:
            raise Unauthenticated(f"This API key has expired: {_NEW_KEY}.")
        if user.disabled or membership is None:
            raise Unauthenticated("This API key's user is no longer a member of its organization.")
        should_touch = key.last_used_at is None or (now - key.last_used_at).total_seconds() > KEY_TOUCH_INTERVAL_S
    principal = Principal(
        user_id=user.id, username=user.username, org_id=org.id, org_name=org.name,
        role=Role(membership.role), scopes=frozenset(Scope(s) for s in key.scopes),
        is_admin=user.is_admin, key_id=key.id,
    )
    if should_touch:
        with db.transaction(write=True) as session:
            repository.touch_key(session, key.id, now)
    valid_until = None
    if key.expires_at is not None:
        valid_until = time.monotonic() + (key.expires_at - now).total_seconds()
    key_cache.put(raw, principal, valid_until)
    return principal


def _authenticate_session(db: Database, credentials: Credentials) -> Principal:
    id_hash = hashlib.sha256((credentials.session_cookie or "").encode()).hexdigest()
    with db.transaction(write=False) as session:
        ui = repository.ui_session(session, id_hash)
        if ui is None or ui.expires_at <= utcnow():
            raise Unauthenticated("Your session has ended; sign in again.")
        if credentials.unsafe_method:
            token = credentials.csrf_token
            if not token or not hmac.compare_digest(token, ui.csrf_token):
                raise Forbidden("Missing or wrong CSRF token.", details={"reason": "csrf"})
        return _session_principal(session, ui)


def _session_principal(session: Session, ui: UiSession) -> Principal:
    from limelight.db.models import Org, User

    user = session.get(User, ui.user_id)
    org = session.get(Org, ui.current_org_id) if ui.current_org_id else None
    if user is None or user.disabled or org is None:
        raise Unauthenticated("Your session has no organization; sign in again.")
    member = repository.membership(session, user.id, org.id)
    if member is None:
        raise Unauthenticated("You are no longer a member of this organization.")
    # A signed-in person holds every scope their role allows; the role still limits them.
    return Principal(
        user_id=user.id, username=user.username, org_id=org.id, org_name=org.name,
        role=Role(member.role), scopes=ALL_SCOPES, is_admin=user.is_admin, via_session=True,
    )


def sign_in(
    db: Database, throttle: LoginThrottle, username: str, password: str, org_name: str | None, *,
    max_age_s: int, client_addr: str | None, request_id: str | None,
) -> tuple[str, UiSession, str]:
    """``login`` behind the throttle; returns (cookie value, session row, org name).

    A locked account or address answers 429 before any password is checked. A wrong password, an
    unknown or disabled user all answer the same 401 after the same argon2 verification, and count
    as one failure each for the account name and the address (recorded and audited in their own
    transaction, since the answer is an error).
    """
    keys = throttle.keys(username, client_addr)
    wait_s = throttle.wait_s(keys)
    if wait_s > 0:
        raise LoginThrottled("Too many failed sign-ins; wait before trying again.", retry_after_s=math.ceil(wait_s),
                             details={"retry_after_s": math.ceil(wait_s)})
    with db.transaction() as session:
        user, known = _check_credentials(session, username, password)
        if user is not None:
            opened = login(session, user, org_name, max_age_s, client_addr=client_addr, request_id=request_id)
    if user is None:
        failures = throttle.failed(keys)
        with db.transaction() as session:
            _audit_failure(session, username if known else None, failures, client_addr, request_id)
        raise Unauthenticated("Wrong username or password.")
    throttle.succeeded(keys)
    return opened


def _check_credentials(session: Session, username: str, password: str) -> tuple[User | None, bool]:
    """(the user if the password is right and the user enabled, whether such a user exists)."""
    user = repository.user_by_name(session, username)
    if not verify_password(user.password_hash if user else None, password) or user is None or user.disabled:
        return None, user is not None
    return user, True


def _audit_failure(session: Session, username: str | None, failures: list[Failure], client_addr: str | None,
                   request_id: str | None) -> None:
    locked_s = max((f.lock_s for f in failures), default=0.0)
    details = {f"{f.scope}_failures": f.failures for f in failures} | {"locked_s": locked_s}
    audit.record(session, None, "auth.login_locked" if locked_s > 0 else "auth.login_failed", "user",
                 username or "(unknown user)", details, actor="anonymous", client_addr=client_addr,
                 request_id=request_id)


def login(
    session: Session, user: User, org_name: str | None, max_age_s: int, *, client_addr: str | None = None,
    request_id: str | None = None,
) -> tuple[str, UiSession, str]:
    """Opens a UI session for a user whose password was checked; returns (cookie, session row, org name)."""
    from limelight.orgs import repository as org_repo

    org = org_repo.org_by_name(session, org_name) if org_name else repository.first_org_of(session, user.id)
    if org is None or repository.membership(session, user.id, org.id) is None:
        raise Unauthenticated("You are not a member of that organization.")
    cookie = secrets.token_urlsafe(32)
    ui = UiSession(
        id_hash=hashlib.sha256(cookie.encode()).hexdigest(), user_id=user.id,
        csrf_token=secrets.token_urlsafe(32), current_org_id=org.id,
        expires_at=utcnow() + timedelta(seconds=max_age_s),
    )
    session.add(ui)
    audit.record(session, None, "auth.login", "user", user.username, org_id=org.id, actor=f"user:{user.username}",
                 client_addr=client_addr, request_id=request_id)
    return cookie, ui, org.name


def logout(session: Session, cookie: str | None) -> None:
    if cookie:
        repository.delete_ui_session(session, hashlib.sha256(cookie.encode()).hexdigest())


def switch_org(session: Session, cookie: str, org_name: str) -> str:
    from limelight.orgs import repository as org_repo

    ui = repository.ui_session(session, hashlib.sha256(cookie.encode()).hexdigest())
    if ui is None:
        raise Unauthenticated()
    org = org_repo.org_by_name(session, org_name)
    if org is None or repository.membership(session, ui.user_id, org.id) is None:
        raise NotFound(f"Organization {org_name!r} not found.")
    ui.current_org_id = org.id
    return org.name


def session_csrf(session: Session, cookie: str) -> str | None:
    ui = repository.ui_session(session, hashlib.sha256(cookie.encode()).hexdigest())
    return ui.csrf_token if ui else None


def create_key(session: Session, principal: Principal, body: KeyCreate) -> KeyCreated:
    authorize(principal, Permission.authenticated, body.org)
    wanted = set(body.scopes)
    if not wanted <= principal.scopes:
        raise Forbidden("A key cannot carry scopes its creator lacks.", details={"scopes": sorted(wanted)})
    if Scope.admin in wanted and not principal.can(Permission.org_admin) and not principal.is_admin:
        raise Forbidden("Only owners can create admin keys.")
    key_id, raw, secret_hash = generate_key()
    expires = utcnow() + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    key = ApiKey(id=key_id, org_id=principal.org_id, user_id=principal.user_id, name=body.name,
                 secret_hash=secret_hash, scopes=sorted(s.value for s in wanted), expires_at=expires)
    session.add(key)
    session.flush()
    audit.record(session, principal, "key.create", "api_key", key_id, {"name": body.name, "scopes": key.scopes})
    return KeyCreated(**_key_read(key, principal.org_name, principal.username).model_dump(), key=raw)


def issue_key(
    session: Session, *, user_id: str, org_id: str, name: str, scopes: list[str], actor: str
) -> str:
    """Used by ``limelight init`` and the demo: a key with no principal to check against yet."""
    key_id, raw, secret_hash = generate_key()
    session.add(ApiKey(id=key_id, org_id=org_id, user_id=user_id, name=name, secret_hash=secret_hash,
                       scopes=sorted(scopes)))
    session.flush()
    audit.record(session, None, "key.create", "api_key", key_id, {"name": name, "scopes": sorted(scopes)},
                 org_id=org_id, actor=actor)
    return raw


def list_keys(session: Session, principal: Principal) -> list[KeyRead]:
    everyone = principal.can(Permission.org_admin)
    rows = repository.keys_of(session, user_id=None if everyone else principal.user_id, org_id=principal.org_id)
    return [_key_read(k, principal.org_name, u.username) for k, u in rows]


def revoke_key(session: Session, principal: Principal, key_id: str, key_cache: object) -> KeyRead:
    found = repository.key_with_context(session, key_id)
    if found is None or found[0].org_id != principal.org_id:
        raise NotFound("API key not found.")
    key, user, _, _ = found
    if key.user_id != principal.user_id and not principal.can(Permission.org_admin):
        raise NotFound("API key not found.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(session, principal, "key.revoke", "api_key", key.id, {"name": key.name})
    key_cache.drop_key_id(key.id)  # type: ignore[attr-defined]
    return _key_read(key, principal.org_name, user.username)


def _key_read(key: ApiKey, org_name: str, username: str) -> KeyRead:
    return KeyRead(
        id=key.id, name=key.name, org=org_name, username=username, scopes=[Scope(s) for s in key.scopes],
        created_at=key.created_at, expires_at=key.expires_at, revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
    )
