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
