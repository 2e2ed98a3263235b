"""The app factory: every resource is built in the lifespan from the settings, none at import."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from limelight.artifacts.registry import open_store
from limelight.auth.cache import KeyCache
from limelight.auth.service import authenticate_key
from limelight.auth.throttle import build_login_throttle
from limelight.config import Settings
from limelight.db.session import open_database
from limelight.deployments.directory import DatabaseModelDirectory
from limelight.events.feed import EventFeed
from limelight.experiments.exposures import ExposureRecorder
from limelight.maintenance.collector import collect_forever
from limelight.metering.meter import UsageRecorder
from limelight.monitoring.shown_items import ShownItems
from limelight.runtimes.sandbox import ArtifactValidator, SandboxLimits
from limelight.server.api_limits import build_api_limits
from limelight.server.docs import install_docs
from limelight.server.errors import install_error_handlers
from limelight.server.guide import install_guide
from limelight.server.middleware import BodyLimitMiddleware, RequestIdMiddleware
from limelight.server.openapi import install_openapi
from limelight.server.scrape import ScrapeCredential
from limelight.server.security import SecurityHeadersMiddleware, TrustedHostMiddleware
from limelight.server.state import AppState
from limelight.serving import lifecycle as serving_lifecycle
from limelight.serving.shedding import INFLIGHT_GATE_KEY

log = logging.getLogger("limelight.server")


def build_state(settings: Settings) -> AppState:
    return AppState(
        settings=settings,
        db=open_database(settings.database_url),
        artifacts=open_store(settings.artifacts_url),
        key_cache=KeyCache(settings.serving.key_cache_s),
        validator=ArtifactValidator(SandboxLimits(**settings.sandbox.model_dump())),
        scrape=ScrapeCredential.from_settings(settings.server),
    )


def _usage_meter(settings: Settings, state: AppState) -> UsageRecorder | None:
    if not settings.metering.enabled:
        return None
    return UsageRecorder(state.db, settings.metering, flush_interval_s=settings.monitoring.flush_interval_s)


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        state = build_state(settings)
        app.state.limelight = state
        api_limits = state.api_limits = build_api_limits(settings)
        state.login_throttle = build_login_throttle(settings, state.db)
        feed = state.event_feed = EventFeed(state.db)
        feed.start()
        await serving_lifecycle.start(state, directory=DatabaseModelDirectory(state.db),
                                      authenticate_key=functools.partial(authenticate_key, state.db, state.key_cache),
                                      exposures=ExposureRecorder(state.db), meter=_usage_meter(settings, state),
                                      shown_items=ShownItems(state.db, settings.monitoring))
        reaper = asyncio.create_task(_reap_forever(state))
        collector = asyncio.create_task(collect_forever(state)) if settings.gc.interval_s > 0 else None
        try:
            # lifespan state: uvicorn hands it to each connection's protocol, which sheds load with the gate
            yield {INFLIGHT_GATE_KEY: state.inflight}
        finally:
            state.ready = False
            reaper.cancel()
            if collector is not None:
                collector.cancel()
            await serving_lifecycle.stop(state)
            feed.stop()
            api_limits.close()
            state.db.dispose()

    app = FastAPI(
        title="limelight",
        version="0.1.0",
        description="Self-hosted model-as-a-service for entertainment data.",
        lifespan=lifespan,
        docs_url=None,  # install_docs: the same pages without a CDN
        redoc_url=None,
    )
    install_error_handlers(app)
    _include_routers(app)
    install_docs(app)
    install_guide(app, settings.server.guide_dir)
    production = settings.mode == "production"
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.limits.max_json_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, hsts=production)
    serving_lifecycle.install(app)  # inference routes + the fast path, outside the rest
    install_openapi(app)
    if production and "*" not in settings.server.trusted_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.server.trusted_hosts)  # outermost
    return app


async def _reap_forever(state: AppState) -> None:
    """The API also re-queues or fails jobs of dead workers, so none stays `running` with no worker left."""
    from starlette.concurrency import run_in_threadpool

    from limelight.jobs.lifecycle import reap_expired

    while True:
        await asyncio.sleep(state.settings.worker.poll_s)
        try:
            await run_in_threadpool(reap_expired, state.db)
        except Exception as exc:  # noqa: BLE001 - keep reaping through a busy database
            log.warning("reaping expired jobs failed: %s", exc)


def _include_routers(app: FastAPI) -> None:
    from limelight.audit.endpoints import router as audit_router
    from limelight.auth.endpoints import router as auth_router
    from limelight.datasets.endpoints import router as datasets_router
    from limelight.deployments.endpoints import router as deployments_router
    from limelight.events.endpoints import router as events_router
    from limelight.experiments.endpoints import router as experiments_router
    from limelight.jobs.endpoints import router as jobs_router
    from limelight.marketplace.endpoints import router as marketplace_router
    from limelight.metering.endpoints import router as metering_router
    from limelight.monitoring.endpoints import router as monitoring_router
    from limelight.orgs.endpoints import router as orgs_router
    from limelight.registry.endpoints import router as registry_router
    from limelight.registry.share_endpoints import router as shares_router
    from limelight.server.ops import router as ops_router

    for router in (ops_router, auth_router, orgs_router, datasets_router, jobs_router, registry_router,
                   shares_router, marketplace_router, deployments_router, events_router, audit_router, monitoring_router,
                   metering_router, experiments_router):
        app.include_router(router)
    from limelight.ui import install_ui

    install_ui(app)  # the web console at / and its assets at /static
