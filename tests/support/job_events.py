"""Waits for a job by following its event stream (``GET …/jobs/{id}/logs``, server-sent events)
instead of polling it: the server pushes each change of state and progress as it happens."""

from __future__ import annotations

from typing import Any

import httpx
from httpx_sse import connect_sse

ENDED = ("succeeded", "failed", "cancelled")


def follow_job(client: httpx.Client, org: str, job_id: str, *, until: tuple[str, ...] = ENDED,
               min_progress: float = 0, timeout_s: float = 120) -> dict[str, Any]:
    """The job once its state is in ``until`` with at least ``min_progress``; fails if the stream
    ends first or stays silent for ``timeout_s``."""
    url = f"/api/v1/orgs/{org}/jobs/{job_id}/logs"
    with connect_sse(client, "GET", url, timeout=httpx.Timeout(10, read=timeout_s)) as events:
        for event in events.iter_sse():
            if event.event not in ("progress", "end"):
                continue
            seen = event.json()
            if seen["state"] in until and (seen.get("progress") or 0) >= min_progress:
                job = client.get(f"/api/v1/orgs/{org}/jobs/{job_id}")
                assert job.status_code == 200, job.text
                return dict(job.json())
            if event.event == "end":
                break
    raise AssertionError(f"job {job_id} ended {seen['state']} without reaching {until}")
