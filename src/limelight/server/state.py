"""Everything the app builds at start-up, in one typed object (no module-level state)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from limelight.artifacts.store import ArtifactStore
from limelight.config import Settings
from limelight.db.session import Database
from limelight.runtimes.sandbox import ArtifactValidator
from limelight.server.scrape import ScrapeCredential


@dataclass
class AppState:
    settings: Settings
    db: Database
    artifacts: ArtifactStore
    key_cache: Any  # limelight.auth.service.KeyCache
    validator: ArtifactValidator
    scrape: ScrapeCredential = field(default_factory=lambda: ScrapeCredential(None))
    ready: bool = True
    extras: dict[str, Any] = field(default_factory=dict)
