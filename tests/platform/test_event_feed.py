"""The live event feed of each API process: it tails events stored by others, and an erasure made by
one process empties the forgotten user's history in every other process's feed too."""

from __future__ import annotations

import time
from collections.abc import Callable

from limelight.auth.principal import Principal
from limelight.db.base import utcnow
from limelight.db.models import Org
from limelight.events import repository
from limelight.events import service as events
from limelight.events.feed import EventFeed
from limelight.schemas.tenancy import Role, Scope

GONE, STAYS = "viewer/with-a-slash", "viewer-2"


def _eventually(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def _store(database, org_id: str, user_id: str, event_id: str) -> None:  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        repository.insert_ignoring_duplicates(session, [{
            "org_id": org_id, "event_id": event_id, "user_id": user_id, "item_id": "m1", "type": "play",
            "value": None, "ts": time.time(), "received_at": utcnow()}])


def test_an_erasure_in_one_process_empties_every_feed(database) -> None:  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        org = Org(name="studio")
        session.add(org)
        session.flush()
        org_id = org.id
    owner = Principal(user_id="u", username="owner", org_id=org_id, org_name="studio", role=Role.owner,
                      scopes=frozenset(Scope))
    here, elsewhere = EventFeed(database, poll_s=0.05), EventFeed(database, poll_s=0.05)  # two API processes
    _store(database, org_id, GONE, "e1")
    here.start()
    elsewhere.start()
    try:
        _store(database, org_id, GONE, "e2")
        _store(database, org_id, STAYS, "e3")
        for feed in (here, elsewhere):
            _eventually(lambda feed=feed: len(feed.history(org_id, GONE)) == 2 and feed.history(org_id, STAYS))
        with database.transaction() as session:
            assert events.forget_events(session, owner, "studio", GONE) == 2
        here.forget(org_id, GONE)  # what the endpoint does in the process that served the erasure
        assert here.history(org_id, GONE) == []
        _eventually(lambda: elsewhere.history(org_id, GONE) == [])  # the other process, by its tail
        assert [e.event_id for e in elsewhere.history(org_id, STAYS)] == ["e3"]
        _store(database, org_id, GONE, "e4")  # what they do afterwards is new data, kept
        _eventually(lambda: [e.event_id for e in elsewhere.history(org_id, GONE)] == ["e4"])
        late = EventFeed(database, poll_s=0.05)  # a process started after the erasure
        late.start()
        try:
            assert [e.event_id for e in late.history(org_id, GONE)] == ["e4"]
        finally:
            late.stop()
    finally:
        here.stop()
        elsewhere.stop()


def test_history_keeps_each_datasets_stream_apart(database) -> None:  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        org = Org(name="streams-org")
        session.add(org)
        session.flush()
        org_id = org.id
    with database.transaction() as session:
        repository.insert_ignoring_duplicates(session, [
            {"org_id": org_id, "dataset": dataset, "event_id": f"{dataset}-{n}", "user_id": "viewer",
             "item_id": f"{dataset}-item", "type": "play", "value": None, "ts": time.time(), "received_at": utcnow()}
            for dataset in ("films", "series") for n in range(2)])
    feed = EventFeed(database, poll_s=0.05)
    feed.start()
    try:
        feed.push([{"org_id": org_id, "dataset": "films", "event_id": "films-pushed", "user_id": "viewer",
                    "item_id": "films-item", "type": "play", "value": None}])
        films = feed.history(org_id, "viewer", dataset="films")
        series = feed.history(org_id, "viewer", dataset="series")
        everything = feed.history(org_id, "viewer", any_dataset=True)
    finally:
        feed.stop()
    assert sorted(e.event_id for e in films) == ["films-0", "films-1", "films-pushed"]
    assert sorted(e.event_id for e in series) == ["series-0", "series-1"]
    assert len(everything) == 5 and feed.history(org_id, "viewer") == []
