"""The audit log through the SDK: filtered, paginated, verified."""

from __future__ import annotations

from limelight.client import Client
from tests.client.tenants import SdkTenant
from tests.support.factories import unique


def test_actions_are_recorded_filtered_and_paged_newest_first(client: Client, tenant: SdkTenant) -> None:
    names = [client.models.create(tenant.org, unique("audited"), "other").name for _ in range(3)]
    created = client.audit.list(tenant.org, action="model.create")
    assert [e.object_id for e in created.items][:3] == [f"{tenant.org}/{name}" for name in reversed(names)]
    assert all(e.action == "model.create" and e.actor.startswith("user:admin") for e in created.items)
    assert all(e.request_id for e in created.items)

    first = client.audit.list(tenant.org, limit=2)
    assert len(first.items) == 2 and first.next_cursor
    every = list(client.audit.iter(tenant.org, limit=2))
    seqs = [e.seq for e in every]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == len(set(seqs)) > 4
    assert {"org.create", "key.create", "model.create"} <= {e.action for e in every}
    assert [e.seq for e in client.audit.iter(tenant.org, object_type="model", limit=1)] == \
        [e.seq for e in every if e.object_type == "model"]


def test_verify_checks_the_whole_chain(client: Client) -> None:
    result = client.audit.verify()
    assert result.ok and result.first_bad_seq is None
    assert result.entries_checked > 5
