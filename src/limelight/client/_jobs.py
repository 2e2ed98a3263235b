"""Jobs (submit, follow, wait, cancel) and the recipes they run."""

from __future__ import annotations

import asyncio
import builtins
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

import httpx
from httpx_sse import ServerSentEvent

from limelight.client._base import Call, as_list, as_model, as_none, as_page, body, query, segment
from limelight.client._resource import AsyncResource, SyncResource
from limelight.errors import DeadlineExceeded
from limelight.schemas.common import Page
from limelight.schemas.jobs import TERMINAL_STATES, JobLogRead, JobRead, JobState, RecipeRead

API = "/api/v1"
# The log stream stays open while the job runs and may be quiet for minutes.
STREAM_TIMEOUT = httpx.Timeout(60.0, read=None)

JobProgress = Callable[[JobRead], None]
"""Called as ``on_progress(job)`` after every poll of `wait`, terminal state included."""


def _jobs(org: str) -> str:
    return f"{API}/orgs/{segment(org)}/jobs"


def _submit(org: str, fields: dict[str, Any]) -> Call[JobRead]:
    return Call("POST", _jobs(org), as_model(JobRead), json=body(**fields))


def _list(org: str, state: JobState | str | None, model: str | None, limit: int | None,
          cursor: str | None) -> Call[Page[JobRead]]:
    params = query(state=str(state) if state else None, model=model, limit=limit, cursor=cursor)
    return Call("GET", _jobs(org), as_page(JobRead), params=params)


def _get(org: str, job_id: str) -> Call[JobRead]:
    return Call("GET", f"{_jobs(org)}/{segment(job_id)}", as_model(JobRead))


def _action(org: str, job_id: str, action: str) -> Call[JobRead]:
    return Call("POST", f"{_jobs(org)}/{segment(job_id)}/{action}", as_model(JobRead))


def _logs(org: str, job_id: str, after_seq: int | None) -> Call[None]:
    headers = {"Accept": "text/event-stream"}
    if after_seq is not None:
        headers["Last-Event-ID"] = str(after_seq)  # the server resumes after this log line
    return Call("GET", f"{_jobs(org)}/{segment(job_id)}/logs", as_none, headers=headers, timeout=STREAM_TIMEOUT)


def _recipes() -> Call[list[RecipeRead]]:
    return Call("GET", f"{API}/recipes", as_list(RecipeRead))


def _log_line(event: ServerSentEvent) -> JobLogRead | None:
    """A log line from a ``log`` event (or an untyped one); progress events are not log lines."""
    if event.event in ("log", "message") and event.data:
        return JobLogRead.model_validate_json(event.data)
    return None


def _submit_fields(recipe: str, model: str, dataset: str | None, dataset_version: int | None,
                   items_dataset: str | None, params: Mapping[str, Any] | None, max_attempts: int | None,
                   promote: str | None, users_dataset: str | None = None) -> dict[str, Any]:
    fields = {"recipe": recipe, "model": model, "dataset": dataset, "dataset_version": dataset_version,
              "items_dataset": items_dataset, "params": dict(params or {}), "max_attempts": max_attempts,
              "promote": promote}
    return fields | ({"users_dataset": users_dataset} if users_dataset is not None else {})


class _Deadline:
    """The stopping rule `wait` shares between the sync and async clients."""

    def __init__(self, job_id: str, timeout_s: float, poll_interval_s: float) -> None:
        self.job_id = job_id
        self.timeout_s = timeout_s
        self.poll_interval_s = poll_interval_s
        self.ends_at = time.monotonic() + timeout_s

    def sleep_s(self, job: JobRead) -> float | None:
        """Seconds to sleep before the next poll; None once the job is done."""
        if job.state in TERMINAL_STATES:
            return None
        remaining_s = self.ends_at - time.monotonic()
        if remaining_s <= 0:
            raise DeadlineExceeded(
                f"Job {self.job_id} is still {job.state.value} after {self.timeout_s:g} s.",
                details={"job_id": self.job_id, "state": job.state.value, "progress": job.progress},
            )
        return min(self.poll_interval_s, remaining_s)


# ---- sync ----------------------------------------------------------------------------------

class Jobs(SyncResource):
    def submit(self, org: str, recipe: str, model: str, *, dataset: str | None = None,
               dataset_version: int | None = None, items_dataset: str | None = None,
               params: Mapping[str, Any] | None = None, max_attempts: int | None = None,
               promote: str | None = None, users_dataset: str | None = None) -> JobRead:
        """Queue a training job: ``recipe`` on ``dataset``, registering the result as a version of ``model``.

        ``promote`` names an alias (e.g. ``production``) the new version takes if its gate metric is at
        least the current holder's. ``users_dataset`` (kind users) adds end-user profiles (behaviour).
        """
        fields = _submit_fields(recipe, model, dataset, dataset_version, items_dataset, params, max_attempts, promote,
                                users_dataset)
        return self._run(_submit(org, fields))

    def list(self, org: str, *, state: JobState | str | None = None, model: str | None = None,
             limit: int | None = None, cursor: str | None = None) -> Page[JobRead]:
        """Jobs of ``org``, newest first."""
        return self._run(_list(org, state, model, limit, cursor))

    def iter(self, org: str, *, state: JobState | str | None = None, model: str | None = None,
             limit: int | None = None) -> Iterator[JobRead]:
        return self._iterate(lambda cursor: _list(org, state, model, limit, cursor))

    def get(self, org: str, job_id: str) -> JobRead:
        return self._run(_get(org, job_id))

    def cancel(self, org: str, job_id: str) -> JobRead:
        return self._run(_action(org, job_id, "cancel"))

    def retry(self, org: str, job_id: str) -> JobRead:
        """Queue a failed or cancelled job again."""
        return self._run(_action(org, job_id, "retry"))

    def logs(self, org: str, job_id: str, *, after_seq: int | None = None) -> Iterator[JobLogRead]:
        """The job's log lines (after ``after_seq``), live: the stream ends when the job does."""
        for event in self._client._stream_events(_logs(org, job_id, after_seq)):
            if event.event == "end":
                return
            log = _log_line(event)
            if log is not None:
                yield log

    def wait(self, org: str, job_id: str, *, timeout_s: float = 3600.0, poll_interval_s: float = 1.0,
             on_progress: JobProgress | None = None) -> JobRead:
        """Poll until the job is succeeded, failed or cancelled, and return it (a failure is not raised).

        Raises `DeadlineExceeded` when it is still queued or running after ``timeout_s``.
        """
        deadline = _Deadline(job_id, timeout_s, poll_interval_s)
        while True:
            job = self.get(org, job_id)
            if on_progress is not None:
                on_progress(job)
            sleep_s = deadline.sleep_s(job)
            if sleep_s is None:
                return job
            time.sleep(sleep_s)


class Recipes(SyncResource):
    def list(self) -> builtins.list[RecipeRead]:
        """Every training recipe the server offers, with its task, dataset kind and parameter schema."""
        return self._run(_recipes())


# ---- async ---------------------------------------------------------------------------------

class AsyncJobs(AsyncResource):
    async def submit(self, org: str, recipe: str, model: str, *, dataset: str | None = None,
                     dataset_version: int | None = None, items_dataset: str | None = None,
                     params: Mapping[str, Any] | None = None, max_attempts: int | None = None,
                     promote: str | None = None, users_dataset: str | None = None) -> JobRead:
        fields = _submit_fields(recipe, model, dataset, dataset_version, items_dataset, params, max_attempts, promote,
                                users_dataset)
        return await self._run(_submit(org, fields))

    async def list(self, org: str, *, state: JobState | str | None = None, model: str | None = None,
                   limit: int | None = None, cursor: str | None = None) -> Page[JobRead]:
        return await self._run(_list(org, state, model, limit, cursor))

    def iter(self, org: str, *, state: JobState | str | None = None, model: str | None = None,
             limit: int | None = None) -> AsyncIterator[JobRead]:
        return self._iterate(lambda cursor: _list(org, state, model, limit, cursor))

    async def get(self, org: str, job_id: str) -> JobRead:
        return await self._run(_get(org, job_id))

    async def cancel(self, org: str, job_id: str) -> JobRead:
        return await self._run(_action(org, job_id, "cancel"))

    async def retry(self, org: str, job_id: str) -> JobRead:
        return await self._run(_action(org, job_id, "retry"))

    async def logs(self, org: str, job_id: str, *, after_seq: int | None = None) -> AsyncIterator[JobLogRead]:
        async for event in self._client._stream_events(_logs(org, job_id, after_seq)):
            if event.event == "end":
                return
            log = _log_line(event)
            if log is not None:
                yield log

    async def wait(self, org: str, job_id: str, *, timeout_s: float = 3600.0, poll_interval_s: float = 1.0,
                   on_progress: JobProgress | None = None) -> JobRead:
        deadline = _Deadline(job_id, timeout_s, poll_interval_s)
        while True:
            job = await self.get(org, job_id)
            if on_progress is not None:
                on_progress(job)
            sleep_s = deadline.sleep_s(job)
            if sleep_s is None:
                return job
            await asyncio.sleep(sleep_s)


class AsyncRecipes(AsyncResource):
    async def list(self) -> builtins.list[RecipeRead]:
        return await self._run(_recipes())
