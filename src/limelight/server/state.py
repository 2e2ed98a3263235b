"""Everything the app builds at start-up, in one typed object (no module-level state).

The lifespan fills the optional parts as it starts them; code that needs one reads it from here.
``runtime_services`` is what a loading runtime may borrow (``LoadContext.services``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from limelight.artifacts.store import ArtifactStore
from limelight.auth.cache import KeyCache
from limelight.auth.throttle import LoginThrottle
from limelight.config import Settings
from limelight.db.session import Database
from limelight.marketplace.cache import SearchCache
from limelight.runtimes.sandbox import ArtifactValidator
from limelight.server.api_limits import ApiLimits
from limelight.server.scrape import ScrapeCredential
from limelight.serving.shedding import InflightGate

if TYPE_CHECKING:
    from limelight.events.feed import EventFeed


@dataclass
class AppState:
    settings: Settings
    db: Database
    artifacts: ArtifactStore
    key_cache: KeyCache
    validator: ArtifactValidator
    scrape: ScrapeCredential = field(default_factory=lambda: ScrapeCredential(None))
    ready: bool = True
    # the inference requests this process is working on; uvicorn's protocol reads it from the lifespan state
    inflight: InflightGate = field(default_factory=InflightGate)
    api_limits: ApiLimits | None = None
    login_throttle: LoginThrottle | None = None
    search_cache: SearchCache = field(default_factory=SearchCache)
    event_feed: EventFeed | None = None
    # the ServingEngine and its ServingHandle, set by serving.lifecycle.start; typed loosely because
    # the serving core is built on this state (naming its classes here would import in a circle)
    serving: Any = None
    serving_handle: Any = None

    def runtime_services(self) -> Mapping[str, Any]:
        """What runtimes borrow: live events (recommendation fold-in), other loaded models (the
        assistant's LLM and encoder) and the LLM defaults."""
        services: dict[str, Any] = {"generation_settings": self.settings.generation}
        if self.event_feed is not None:
            services["event_feed"] = self.event_feed
        if self.serving is not None:
            services["acquire_model"] = self.serving.acquire_model
        return services
