"""The audit log: every mutation leaves an entry; editing or deleting one breaks verification."""

from __future__ import annotations

from tests.support.factories import new_tenant, ok
from tests.support.live_server import run_cli


def test_mutations_are_audited_with_actor_address_and_request_id(server):
    tenant = new_tenant(server)
    with tenant.client() as client:
        response = client.post(f"/api/v1/orgs/{tenant.org}/models", json={"name": "audited", "task": "classify"},
                               headers={"X-Request-Id": "req-audit-1"})
        ok(response)
        entries = ok(client.get(f"/api/v1/orgs/{tenant.org}/audit", params={"limit": 5}))["items"]
    entry = next(e for e in entries if e["action"] == "model.create")
    assert entry["object_id"] == f"{tenant.org}/audited"
    assert entry["actor"].startswith(f"user:{tenant.username}")
    assert entry["client_addr"] == "127.0.0.1"
    assert entry["request_id"] == "req-audit-1" == response.headers["x-request-id"]


def test_audit_pagination_walks_every_entry_once(server):
    tenant = new_tenant(server)
    with tenant.client() as client:
        for i in range(7):
            ok(client.post(f"/api/v1/orgs/{tenant.org}/models", json={"name": f"p{i}", "task": "classify"}))
        seen, cursor = [], None
        while True:
            page = ok(client.get(f"/api/v1/orgs/{tenant.org}/audit", params={"limit": 3, "cursor": cursor}))
            seen += [e["seq"] for e in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
    assert len(seen) == len(set(seen)) >= 7
    assert seen == sorted(seen, reverse=True)


def test_verify_detects_an_edited_entry(server, database_rows):
    with server.client() as client:
        ok(client.post(f"/api/v1/orgs/{server.org}/models", json={"name": "verify-me", "task": "classify"}))
        assert ok(client.get("/api/v1/audit/verify"))["ok"] is True
        seq = database_rows(server, "SELECT max(seq) FROM audit_entries")[0][0]
        original = database_rows(server, "SELECT action FROM audit_entries WHERE seq = :s", s=seq)[0][0]
        database_rows(server, "UPDATE audit_entries SET action = 'nothing.happened' WHERE seq = :s", s=seq)
        try:
            result = ok(client.get("/api/v1/audit/verify"))
            cli_env = server.env | {"LIMELIGHT_URL": server.url, "LIMELIGHT_API_KEY": server.admin_key}
            cli = run_cli(cli_env, "audit", "verify", check=False)
        finally:
            database_rows(server, "UPDATE audit_entries SET action = :a WHERE seq = :s", a=original, s=seq)
        assert ok(client.get("/api/v1/audit/verify"))["ok"] is True
    assert result["ok"] is False and result["first_bad_seq"] == seq
    assert "hash" in result["reason"]
    assert cli.returncode != 0 and "does not match its hash" in (cli.stdout + cli.stderr)


def test_verify_detects_a_deleted_entry(tmp_path, db_url):
    from limelight.audit import service as audit
    from limelight.db.migrate import upgrade
    from limelight.db.models import AuditEntry
    from limelight.db.session import open_database

    db = open_database(db_url)
    upgrade(db)
    with db.transaction() as session:
        for i in range(5):
            audit.record(session, None, "test.event", "thing", str(i), org_id=None, actor="test")
    with db.transaction() as session:
        assert audit.verify(session).ok
        session.delete(session.get(AuditEntry, 3))
    with db.transaction() as session:
        result = audit.verify(session)
    assert not result.ok and result.first_bad_seq == 3 and "missing" in (result.reason or "")
    with db.transaction() as session:
        session.delete(session.get(AuditEntry, 5))
        session.delete(session.get(AuditEntry, 4))
        session.delete(session.get(AuditEntry, 3)) if session.get(AuditEntry, 3) else None
    with db.transaction() as session:
        tail_cut = audit.verify(session)
    assert not tail_cut.ok and "deleted" in (tail_cut.reason or "")
    db.dispose()


def _count_entries(client, org: str) -> int:  # type: ignore[no-untyped-def]
    seen, cursor = 0, None
    while True:
        page = ok(client.get(f"/api/v1/orgs/{org}/audit", params={"limit": 200, "cursor": cursor}))
        seen += len(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return seen


def test_an_org_verifies_its_view_of_the_chain_and_only_a_system_admin_the_whole(server, database_rows):
    a, b = new_tenant(server), new_tenant(server)
    with a.client() as client:
        ok(client.post(f"/api/v1/orgs/{a.org}/models", json={"name": "private-thing", "task": "classify"}))
    seq = database_rows(server, "SELECT max(seq) FROM audit_entries")[0][0]
    with b.client() as other, a.client() as owner, server.client() as admin:
        mine = ok(other.get("/api/v1/audit/verify"))
        assert mine == ok(other.get(f"/api/v1/orgs/{b.org}/audit/verify"))
        assert mine["scope"] == "org" and mine["org"] == b.org and mine["ok"] is True
        assert mine["entries_checked"] == _count_entries(other, b.org)  # only b's entries are counted
        assert other.get(f"/api/v1/orgs/{a.org}/audit/verify").status_code == 404
        whole = ok(admin.get("/api/v1/audit/verify"))
        assert whole["scope"] == "global" and whole["entries_checked"] >= seq > mine["entries_checked"]
        original = database_rows(server, "SELECT action FROM audit_entries WHERE seq = :s", s=seq)[0][0]
        database_rows(server, "UPDATE audit_entries SET action = 'nothing.happened' WHERE seq = :s", s=seq)
        try:
            seen_by_b = ok(other.get("/api/v1/audit/verify"))
            seen_by_a = ok(owner.get(f"/api/v1/orgs/{a.org}/audit/verify"))
            seen_by_admin = ok(admin.get("/api/v1/audit/verify"))
        finally:
            database_rows(server, "UPDATE audit_entries SET action = :a WHERE seq = :s", a=original, s=seq)
    assert seen_by_b["ok"] is False and seen_by_b["first_bad_seq"] is None  # broken, but not where: a's entry
    assert "outside this organization" in seen_by_b["reason"] and "private-thing" not in str(seen_by_b)
    assert seen_by_a["ok"] is False and seen_by_a["first_bad_seq"] == seq and "hash" in seen_by_a["reason"]
    assert seen_by_admin["ok"] is False and seen_by_admin["first_bad_seq"] == seq
