"""The serving engine: from (principal, org, model, version | alias, routing key) to a host key and
a prediction. Protocols (``serving/protocols``: native v1, KServe v2 REST, gRPC) only translate
wire formats; everything they share lives here: API-key auth from the key cache, rate limits,
version resolution, verbs, the model host.

Hot path, per request: a dict lookup for the key (``state.key_cache``), a token bucket, a dict
lookup for the model's routing snapshot, the batcher. No database read: the snapshot (aliases,
versions, deployment routes) is re-read in a thread every ``settings.serving.alias_cache_s``, and
when a refresh finds a new default version (an alias moved, a route added) it loads that version
*before* switching traffic, so an alias move costs no failed and no slow requests; the old
version keeps serving until the host evicts it.

Verbs (``:recommend``, ``:embed``, …) are looked up in a ``VerbRegistry``: see ``serving/verb_registry.py``.
Loading a version's artifact into a runtime: ``serving/loading.py``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from limelight.auth.principal import Permission, Principal
from limelight.errors import (
    DeadlineExceeded,
    LimelightError,
    NotFound,
    Overloaded,
    Unauthenticated,
)
from limelight.serving.host import BatchConfig, ModelHost
from limelight.serving.loading import VersionLoader, serving_cache_dir, warm_up
from limelight.serving.metrics import NO_MODEL, ServingMetrics, VersionObserver
from limelight.serving.ports import (
    Arm,
    ExperimentSplit,
    ExposureLog,
    ItemLog,
    KeyAuthenticator,
    ModelDirectory,
    UsageMeter,
)
from limelight.serving.ratelimit import InProcessRateLimiter, Limit, RateLimiter, enforce, key_and_org_limits
from limelight.serving.routing import Router
from limelight.serving.verb_registry import default_verbs
from limelight.verbs import Served, VerbHandler, VerbRegistry, VersionKey

if TYPE_CHECKING:
    from limelight.runtimes.base import Runtime
    from limelight.schemas.registry import DeploymentSpec
    from limelight.server.state import AppState

__all__ = [
    "CHEAP_RUNTIMES",
    "ServingEngine",
    "Target",
]

log = logging.getLogger(__name__)

# Runtimes whose predict costs about a thread hop: a lone request runs at once (no wait for company).
# They still run in the batcher's thread, never inline: an inline call finishes before the next
# request is read, so under load no batch would ever form (measured: W1 at c=32 goes from 2,800
# to 5,500 req/s when 1-row calls become ~10-row batches; a 10-row predict costs what 1 row does).
CHEAP_RUNTIMES = frozenset({"sklearn", "lightgbm"})
_STALE_GRACE_S = 2.0  # past its TTL by more than this (refresher stalled), a snapshot is re-read first
_FORGET_UNUSED_S = 60.0  # snapshots of models nobody called for this long are dropped, not refreshed
_MISS_RECHECK_S = 0.05  # an unknown version/alias re-reads a snapshot older than this once
_PRELOAD_TIMEOUT_S = 300.0
_ADMISSION_MIN_PENDING = 8  # below this many items in flight a version always admits
_ADMISSION_SHARE = 0.8  # refuse when the predicted queue wait exceeds this share of the timeout


# ---- routing snapshots ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Snapshot:
    """What routing needs to know about one model, re-read every ``alias_cache_s``."""

    fetched_at: float
    found: bool
    owner_org_id: str = ""
    public: bool = False
    shared_with: frozenset[str] = frozenset()
    aliases: Mapping[str, int] = field(default_factory=dict)
    latest: int = 0
    runtimes: Mapping[int, str] = field(default_factory=dict)  # version -> runtime name
    spec: DeploymentSpec | None = None
    router: Router | None = None
    experiment: ExperimentSplit | None = None
    splitter: Router | None = None  # the experiment's variants (None: no experiment, or all rolled back)

    def default_versions(self) -> set[int]:
        """The versions a request without ?version/?alias may reach."""
        if self.splitter is not None and self.experiment is not None:
            return {v for v, w in zip(self.experiment.versions, self.experiment.weights, strict=True) if w > 0}
        if self.spec is not None:
            return {r.version for r in self.spec.routes}
        if "production" in self.aliases:
            return {self.aliases["production"]}
        return {self.latest} if self.latest else set()


@dataclass(frozen=True)
class Target:
    """The version one request goes to, and how."""

    served: Served
    timeout_s: float
    shadow: VersionKey | None = None
    arm: Arm | None = None  # set when an experiment chose the version


# ---- the engine -------------------------------------------------------------------------------


class ServingEngine:
    """Built once per API process in the lifespan (``limelight.serving.lifecycle``)."""

    def __init__(
        self,
        state: AppState,
        metrics: ServingMetrics,
        limiter: RateLimiter,
        *,
        directory: ModelDirectory,
        authenticate_key: KeyAuthenticator,
        verbs: VerbRegistry | None = None,
        exposures: ExposureLog | None = None,
        meter: UsageMeter | None = None,
        shown_items: ItemLog | None = None,
    ) -> None:
        settings = state.settings
        self.state = state
        self.directory = directory
        self.exposures = exposures
        self.meter = meter  # usage per calling org and its request quota (None: metering is off)
        self.shown_items = shown_items  # the items recommenders showed, for catalog monitoring
        self._authenticate_key = authenticate_key
        self.metrics = metrics
        self.verbs = verbs or default_verbs()
        self.draining = False
        self._serving = settings.serving
        self._limits = settings.limits
        self._limiter = limiter
        self._sync_limiter = limiter if isinstance(limiter, InProcessRateLimiter) else None
        self._limited = self._limits.rate_limit_per_key_per_s > 0 or self._limits.rate_limit_per_org_per_s > 0
        self._meta_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="serving-meta")
        self._method_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="serving-verb")
        self._snapshots: dict[tuple[str, str], _Snapshot] = {}
        self._refreshing: dict[tuple[str, str], asyncio.Task[_Snapshot]] = {}
        self._used: dict[tuple[str, str], float] = {}  # last request per model (monotonic)
        self._verifying: dict[str, asyncio.Future[Principal]] = {}  # API keys being checked now
        self._pending: dict[VersionKey, int] = {}  # items submitted and not answered, per version
        self._observers: dict[VersionKey, VersionObserver] = {}
        self._configs: dict[VersionKey, BatchConfig] = {}
        self._signatures: dict[VersionKey, dict[str, Any]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.host = ModelHost(
            VersionLoader(state, directory, serving_cache_dir(Path(settings.home))),
            memory_budget_bytes=self._serving.memory_budget_bytes,
            default_batch=self._default_batch(False),
            warmup=warm_up,
            observer_factory=self._observer_for,
            on_cold_start=lambda key: self.metrics.cold_start(key.model_ref, key.version),
        )

    def sinks(self) -> list[ExposureLog | UsageMeter | ItemLog]:
        """What requests feed and the lifecycle flushes: exposures, usage, shown items (those set)."""
        return [sink for sink in (self.exposures, self.meter, self.shown_items) if sink is not None]

    # ---- auth and limits --------------------------------------------------------------------

    async def authenticate(self, authorization: str | None) -> Principal:
        """The caller of an ``Authorization: Bearer`` header; a cache hit costs a hash and a dict lookup."""
        if not authorization:
            raise Unauthenticated()
        scheme, _, raw = authorization.partition(" ")
        raw = raw.strip()
        if scheme.lower() != "bearer" or not raw:
            raise Unauthenticated("Use 'Authorization: Bearer <api key>'.")
        cached = self.state.key_cache.get(raw)
        if cached is not None:
            return cached
        verifying = self._verifying.get(raw)
        if verifying is None:  # single flight: when a busy key's cache entry lapses, one DB read
            loop = asyncio.get_running_loop()
            verifying = asyncio.ensure_future(loop.run_in_executor(self._meta_pool, self._authenticate_key, raw))
            self._verifying[raw] = verifying
            verifying.add_done_callback(lambda _f: self._verifying.pop(raw, None))
        return await asyncio.shield(verifying)

    async def check_limits(self, principal: Principal) -> None:
        """The org's monthly request quota (from the meter's cache: no I/O), then per-key and per-org
        token buckets (429 with Retry-After)."""
        if self.meter is not None:
            try:
                self.meter.admit(principal.org_id)
            except LimelightError:
                self.metrics.rejected(NO_MODEL, "quota_exceeded")
                raise
        if not self._limited:
            return
        limits = key_and_org_limits(
            key_id=principal.key_id or f"user:{principal.user_id}",
            org_id=principal.org_id,
            per_key_per_s=self._limits.rate_limit_per_key_per_s,
            per_org_per_s=self._limits.rate_limit_per_org_per_s,
            burst=self._limits.rate_limit_burst,
        )
        try:
            if self._sync_limiter is not None:
                _enforce_now(self._sync_limiter, limits)
            else:
                await enforce(self._limiter, limits)
        except LimelightError:
            self.metrics.rejected(NO_MODEL, "rate_limited")
            raise

    # ---- resolution -------------------------------------------------------------------------

    async def resolve(
        self,
        principal: Principal,
        org: str,
        name: str,
        *,
        version: int | None = None,
        alias: str | None = None,
        routing_key: str | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Target:
        """The version this call means: ?version, ?alias, the deployment's routes, production, latest."""
        if not principal.can(Permission.org_predict):
            raise principal.refusal(Permission.org_predict)
        snap = await self._snapshot(org, name)
        if not self._visible(snap, principal) or _misses(snap, version, alias):
            snap = await self._recheck(org, name, snap)
        if not self._visible(snap, principal):
            raise NotFound.model(org, name)
        number, shadow, arm = _pick(snap, org, name, version, alias, routing_key, body)
        runtime = snap.runtimes.get(number)
        if runtime is None:
            raise NotFound(f"Version {number} of {org}/{name} not found.")
        timeout_s = snap.spec.timeout_ms / 1000 if snap.spec is not None else self._serving.request_timeout_s
        shadow_key = VersionKey(org, name, shadow) if shadow is not None and shadow in snap.runtimes else None
        return Target(Served(VersionKey(org, name, number), runtime), timeout_s, shadow_key, arm)

    def versions_of(self, org: str, name: str) -> list[int]:
        snap = self._snapshots.get((org, name))
        return sorted(snap.runtimes) if snap is not None else []

    @staticmethod
    def _visible(snap: _Snapshot, principal: Principal) -> bool:
        return snap.found and (snap.public or snap.owner_org_id == principal.org_id
                               or principal.org_id in snap.shared_with)

    async def _snapshot(self, org: str, name: str) -> _Snapshot:
        """The model's snapshot, kept fresh by ``refresh_forever``: no request waits for it, except
        the first one after a model went unused (its snapshot was dropped) or a stalled refresher."""
        ref = (org, name)
        snap = self._snapshots.get(ref)
        now = time.monotonic()
        self._used[ref] = now
        if snap is not None and (
            now - snap.fetched_at <= self._serving.alias_cache_s + _STALE_GRACE_S or ref in self._refreshing
        ):
            return snap  # a refresh in flight may be preloading a new version: keep the old meanwhile
        return await asyncio.shield(self._refresh(ref, preload=False))

    async def refresh_forever(self) -> None:
        """Re-read the snapshots of models in use every ``alias_cache_s`` (preloading new default
        versions before switching); forget those unused for ``_FORGET_UNUSED_S``."""
        period_s = max(self._serving.alias_cache_s / 2, 0.05)
        while True:
            await asyncio.sleep(period_s)
            now = time.monotonic()
            for ref, snap in list(self._snapshots.items()):
                if now - self._used.get(ref, 0.0) > _FORGET_UNUSED_S:
                    self._snapshots.pop(ref, None)
                    self._used.pop(ref, None)
                elif now - snap.fetched_at >= self._serving.alias_cache_s:
                    self._refresh(ref, preload=True)

    async def _recheck(self, org: str, name: str, snap: _Snapshot) -> _Snapshot:
        """A miss (unknown model, version or alias) re-reads a snapshot that is not brand new."""
        if time.monotonic() - snap.fetched_at < _MISS_RECHECK_S:
            return snap
        return await asyncio.shield(self._refresh((org, name), preload=False))

    def _refresh(self, ref: tuple[str, str], *, preload: bool) -> asyncio.Task[_Snapshot]:
        task = self._refreshing.get(ref)
        if task is None:  # single flight per model
            task = asyncio.get_running_loop().create_task(self._do_refresh(ref, preload))
            self._refreshing[ref] = task
            task.add_done_callback(lambda _t: self._refreshing.pop(ref, None))
        return task

    async def _do_refresh(self, ref: tuple[str, str], preload: bool) -> _Snapshot:
        loop = asyncio.get_running_loop()
        old = self._snapshots.get(ref)
        try:
            new = await loop.run_in_executor(self._meta_pool, self._read_snapshot, *ref)
        except Exception as exc:  # a busy or unreachable database: keep routing as it was
            log.warning("reading the routing of %s/%s failed: %s", *ref, exc)
            if old is not None:
                return old
            raise Overloaded("The metadata database is busy; retry.", retry_after_s=1) from exc
        self._apply_batch_configs(ref, new)
        if preload and old is not None and old.found and new.found:
            for number in new.default_versions() - old.default_versions():
                await self._preload(VersionKey(ref[0], ref[1], number))
        if len(self._snapshots) > 10_000:  # unknown names cannot grow this without bound
            self._snapshots.clear()
            self._used.clear()
        self._snapshots[ref] = new
        return new

    async def _preload(self, key: VersionKey) -> None:
        """Load a version before traffic moves to it; a failure is left for requests to report."""
        try:
            await self.host.runtime(key, timeout_s=_PRELOAD_TIMEOUT_S)
        except LimelightError as exc:
            log.warning("preloading %s failed: %s", key, exc.message)

    def _read_snapshot(self, org: str, name: str) -> _Snapshot:
        now = time.monotonic()
        found = self.directory.routes(org, name)
        if found is None:
            return _Snapshot(fetched_at=now, found=False)
        spec, experiment = found.spec, found.experiment
        return _Snapshot(
            fetched_at=now, found=True, owner_org_id=found.owner_org_id, public=found.public,
            shared_with=found.shared_with,
            aliases=found.aliases, latest=found.latest, runtimes=found.runtimes, spec=spec,
            router=Router(f"{org}/{name}", spec.routes, shadow=spec.shadow) if spec is not None else None,
            experiment=experiment, splitter=_splitter(experiment),
        )

    def _apply_batch_configs(self, ref: tuple[str, str], snap: _Snapshot) -> None:
        """Per-version batching from the deployment; a changed config swaps the batcher (old drains)."""
        routed: set[int] = set()
        if snap.spec is not None:
            routed = {r.version for r in snap.spec.routes}
            if snap.spec.shadow is not None:
                routed.add(snap.spec.shadow.version)
        for number, runtime in snap.runtimes.items():
            key = VersionKey(ref[0], ref[1], number)
            config = self._batch_config(runtime, snap.spec if number in routed else None)
            if self._configs.get(key) != config:
                self._configs[key] = config
                self.host.set_batch_config(key, config)

    def _batch_config(self, runtime: str, spec: DeploymentSpec | None) -> BatchConfig:
        if spec is None:
            return self._default_batch(runtime in CHEAP_RUNTIMES)
        return BatchConfig(max_batch_size=spec.max_batch_size, max_wait_ms=spec.max_wait_ms, max_queue=spec.max_queue)

    def _default_batch(self, cheap: bool) -> BatchConfig:
        s = self._serving
        return BatchConfig(
            max_batch_size=s.default_max_batch_size,
            max_wait_ms=0.0 if cheap else s.default_max_wait_ms,
            max_queue=s.max_queue,
        )

    # ---- running ------------------------------------------------------------------------------

    async def run(self, target: Target, handler: VerbHandler, items: list[Any]) -> list[Any]:
        """The outputs of ``items`` on the target version (batched, or the verb's own call)."""
        key = target.served.key
        if handler.call is None:
            self._admit(target, len(items))
            self._pending[key] = self._pending.get(key, 0) + len(items)
            try:
                outputs = await self.host.predict(key, items, timeout_s=target.timeout_s)
            finally:
                self._pending[key] -= len(items)
            if target.shadow is not None:
                self._mirror(target.shadow, items, target.timeout_s)
            return _raise_refused_item(outputs)
        runtime, release = await self.host.acquire(key, timeout_s=target.timeout_s)
        try:
            call = asyncio.get_running_loop().run_in_executor(self._method_pool, handler.call, runtime, items)
        except BaseException:
            release()
            raise
        call.add_done_callback(lambda _: release())  # in use until the thread is done, past a timeout too
        try:
            return await asyncio.wait_for(asyncio.shield(call), target.timeout_s)
        except TimeoutError as exc:
            raise DeadlineExceeded(f"{key} did not answer in time", details={"model": str(key)}) from exc

    def _admit(self, target: Target, n_items: int) -> None:
        """Refuse at once (503 + Retry-After) what the queue ahead would make time out anyway: under
        overload a 504 after the full timeout helps nobody and keeps a queue slot busy."""
        key = target.served.key
        pending = self._pending.get(key, 0)
        observer = self._observers.get(key)
        if pending < _ADMISSION_MIN_PENDING or observer is None or observer.items_per_s <= 0:
            return
        wait_s = (pending + n_items) / observer.items_per_s
        if wait_s > _ADMISSION_SHARE * target.timeout_s:
            self.metrics.rejected(target.served.model_ref, "predicted_timeout")
            raise Overloaded(f"{key} is busy", retry_after_s=wait_s,
                             details={"model": str(key), "queue_wait_s": round(wait_s, 3)})

    def _observer_for(self, key: VersionKey) -> VersionObserver:
        observer = self.metrics.observer_for(key.model_ref, key.version)
        self._observers[key] = observer
        return observer

    async def acquire_model(self, org_asking: str, ref: str, *, runtime: str) -> tuple[Runtime, Callable[[], None]]:
        """The loaded default version of model ``ref`` ("org/name"), held until ``release()`` (call it
        once, on the event loop), for a runtime that builds on another model (a prompt template on its
        base LLM). Lent to runtimes as ``LoadContext.services["acquire_model"]``. ``org_asking`` sees
        its own models and public ones; any other model, or one of another runtime, is not found."""
        org, _, name = ref.partition("/")
        snap = await self._snapshot(org, name)
        if not snap.found or not snap.default_versions():
            snap = await self._recheck(org, name, snap)
        if not snap.found or not (snap.public or org == org_asking):
            raise NotFound.model(org, name, model=ref)
        number, _, _ = _pick(snap, org, name, None, None, None, None)
        if snap.runtimes.get(number) != runtime:
            raise NotFound(f"Model {ref} is not a {runtime} model.", details={"model": ref, "runtime": runtime})
        return await self.host.acquire(VersionKey(org, name, number), timeout_s=self._serving.request_timeout_s)

    async def signature(self, served: Served, timeout_s: float) -> dict[str, Any]:
        """The loaded runtime's signature (loads the version if needed)."""
        found = self._signatures.get(served.key)
        if found is None:
            found = (await self.host.runtime(served.key, timeout_s=timeout_s)).signature()
            self._signatures[served.key] = found
        return found

    def _mirror(self, key: VersionKey, items: list[Any], timeout_s: float) -> None:
        """Send the same items to the shadow version; its answer is dropped, its metrics kept."""

        async def shadow() -> None:
            started, status = time.perf_counter(), 200
            try:
                await self.host.predict(key, items, timeout_s=timeout_s)
            except LimelightError as exc:
                status = exc.status
            except Exception:  # noqa: BLE001 - a shadow never affects the caller
                status = 500
            self.metrics.observe_request(
                key.model_ref,
                str(key.version),
                "shadow:predict",
                status,
                time.perf_counter() - started,
            )

        task = asyncio.get_running_loop().create_task(shadow())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- lifecycle ----------------------------------------------------------------------------

    def version_states(self) -> list[tuple[str, str, str, int, float | None]]:
        return [
            (k.model_ref, str(k.version), s.state.value, s.queue_depth, s.load_s)
            for k, s in self.host.states().items()
        ]

    async def close(self) -> None:
        self.draining = True
        await self.host.close()
        for task in list(self._tasks):
            task.cancel()
        await self._limiter.close()
        self._meta_pool.shutdown(wait=False)
        self._method_pool.shutdown(wait=False)


def _raise_refused_item(outputs: list[Any]) -> list[Any]:
    """A runtime may answer one item with a ``LimelightError`` (an image its decoder refused): the
    request that sent it fails with that error, naming the item's index; the batch's others go on."""
    for index, output in enumerate(outputs):
        if isinstance(output, LimelightError):
            output.details = {**output.details, "index": index}
            raise output
    return outputs


def _misses(snap: _Snapshot, version: int | None, alias: str | None) -> bool:
    if version is not None:
        return version not in snap.runtimes
    if alias is not None:
        return alias not in snap.aliases
    return not snap.default_versions()


def _pick(
    snap: _Snapshot,
    org: str,
    name: str,
    version: int | None,
    alias: str | None,
    routing_key: str | None,
    body: Mapping[str, Any] | None,
) -> tuple[int, int | None, Arm | None]:
    """(version, shadow version or None, experiment arm or None) for one request: ?version, ?alias,
    a running experiment, the deployment's routes, production, latest."""
    if version is not None:
        return version, None, None
    if alias is not None:
        if alias not in snap.aliases:
            raise NotFound(f"Alias {alias!r} of {org}/{name} not found.")
        return snap.aliases[alias], None, None
    if snap.splitter is not None and snap.experiment is not None:
        user = routing_key or _end_user(body, snap.experiment.sticky_field)
        choice = snap.splitter.choose(user)
        return choice.version, None, Arm(snap.experiment.id, snap.experiment.variants[choice.index], user)
    if snap.router is not None and snap.spec is not None:
        choice = snap.router.choose(routing_key or _end_user(body, snap.spec.sticky_field))
        return choice.version, choice.shadow_version, None
    if "production" in snap.aliases:
        return snap.aliases["production"], None, None
    if not snap.latest:
        raise NotFound(f"{org}/{name} has no versions yet.")
    return snap.latest, None, None


def _end_user(body: Mapping[str, Any] | None, field_name: str) -> str | None:
    value = body.get(field_name) if body is not None else None
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class _Split:
    version: int
    weight: float


def _splitter(experiment: ExperimentSplit | None) -> Router | None:
    """The experiment's router, keyed by its id so assignment matches ``experiments.stats.assign_variant``."""
    if experiment is None or sum(experiment.weights) <= 0:
        return None
    return Router(experiment.id, [_Split(v, w) for v, w in zip(experiment.versions, experiment.weights, strict=True)])


def _enforce_now(limiter: InProcessRateLimiter, limits: list[Limit]) -> None:
    """``ratelimit.enforce`` without an await, for the in-process limiter."""
    from limelight.errors import RateLimited

    for limit in limits:
        allowed, retry_after_s = limiter.check_now(limit.bucket_key, limit.rate_per_s, limit.burst)
        if not allowed:
            raise RateLimited(
                f"rate limit of {limit.rate_per_s:g}/s per {limit.scope} reached",
                retry_after_s=retry_after_s,
                details={"scope": limit.scope, "rate_per_s": limit.rate_per_s, "burst": limit.burst},
            )
