"""Typed settings, read from ``LIMELIGHT_*`` environment variables or a TOML/JSON config file.

Nested sections use ``__`` in environment names: ``LIMELIGHT_SERVING__MAX_QUEUE=128``. The two most
common ones have flat aliases: ``LIMELIGHT_DATABASE_URL`` and ``LIMELIGHT_ARTIFACTS_URL``.
Settings are validated once at start; outside dev mode unsafe choices are refused.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from limelight.private_paths import make_private_dirs

DEFAULT_HOME = Path(".limelight")


class _Section(BaseModel):
    # a misspelt key inside a section (LIMELIGHT_SERVER__PORTT, `portt` under [server]) is refused at
    # start like an unknown section, instead of being silently ignored
    model_config = ConfigDict(extra="forbid")


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    grpc_port: int = Field(8001, ge=0, le=65535, description="0 disables the gRPC listener")
    workers: int = Field(1, ge=1, le=64, description="API processes sharing the port")
    metrics_token: SecretStr | None = Field(
        None, min_length=24, description="the bearer token a Prometheus scraper presents to /metrics; "
                                         "unset (and no token file): /metrics refuses every caller")
    metrics_token_file: Path | None = Field(
        None, description="a file holding that token instead (read once at start, like Prometheus' "
                          "credentials_file)")
    trusted_hosts: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1", "localhost", "testserver"],
        description="Host header values accepted in production ('*.example.com' matches subdomains, '*' any)")
    ssl_certfile: Path | None = Field(None, description="PEM certificate (chain): serve HTTPS and gRPC over TLS")
    ssl_keyfile: Path | None = Field(None, description="PEM private key of ssl_certfile")
    forwarded_allow_ips: str | None = Field(
        None, description="comma-separated proxy addresses (or '*') whose X-Forwarded-* headers are trusted; "
                          "set, it allows plain HTTP in production behind that proxy")
    graceful_shutdown_s: float = Field(10.0, ge=0)
    request_log_sample_rate: float = Field(0.01, ge=0, le=1)
    session_max_age_s: int = Field(12 * 3600, ge=60)
    cookie_secure: bool | None = Field(None, description="None: Secure only when served over TLS")
    guide_dir: Path | None = Field(
        None, description="the built user guide served at /guide (default: the one scripts/bootstrap builds "
                          "into the package)")

    @field_validator("metrics_token", "metrics_token_file", mode="before")
    @classmethod
    def _empty_means_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @model_validator(mode="after")
    def _one_metrics_credential(self) -> ServerSettings:
        if self.metrics_token is not None and self.metrics_token_file is not None:
            raise ValueError("set server.metrics_token or server.metrics_token_file, not both")
        return self

    @property
    def tls(self) -> bool:
        return self.ssl_certfile is not None

    @model_validator(mode="after")
    def _certificate_and_key_together(self) -> ServerSettings:
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ValueError("server.ssl_certfile and server.ssl_keyfile go together: set both or neither")
        return self


class LimitSettings(_Section):
    max_dataset_bytes: int = Field(1 << 30, ge=1)
    max_artifact_bytes: int = Field(4 << 30, ge=1)
    max_json_body_bytes: int = Field(8 << 20, ge=1024)
    max_events_per_batch: int = Field(10_000, ge=1)
    # Inference: on by default, at twice what one key reaches on the W1 benchmark (5,000 req/s), so
    # it stops a runaway client without touching real traffic; 0 turns a limit off, explicitly.
    rate_limit_per_key_per_s: float = Field(10_000.0, ge=0, description="inference requests per API key per "
                                                                        "second; 0 disables the per-key limit")
    rate_limit_per_org_per_s: float = Field(0.0, ge=0, description="0 disables the per-org limit")
    rate_limit_burst: int = Field(10_000, ge=1, description="requests a full inference bucket allows at once")
    api_rate_limit_per_key_per_s: float = Field(100.0, ge=0, description="management API requests per API key "
                                                                         "(or signed-in user) per second; 0 disables")
    api_rate_limit_burst: int = Field(1_000, ge=1, description="requests a full management API bucket allows at once")
    login_free_failures_per_account: int = Field(5, ge=1, description="failed sign-ins in a row before the "
                                                                      "account is locked (then backoff)")
    login_free_failures_per_address: int = Field(30, ge=1, description="the same per client address")
    login_backoff_base_s: float = Field(2.0, gt=0, description="first lock; each further failure doubles it")
    login_backoff_max_s: float = Field(900.0, gt=0, description="longest lock")
    login_failure_memory_s: float = Field(3600.0, gt=0, description="a streak of failures is forgotten this long "
                                                                    "after its last failure")


class WorkerSettings(_Section):
    processes: int = Field(1, ge=0, le=32, description="job worker processes started by `serve`")
    heartbeat_s: float = Field(5.0, gt=0, description="how often a worker renews the lease of the job it runs")
    lease_s: float = Field(30.0, gt=0, description="a job whose lease lapses is re-queued or failed")
    poll_s: float = Field(0.5, gt=0)
    max_attempts: int = Field(2, ge=1)
    experiment_check_s: float = Field(30.0, gt=0, description="how often a worker applies the decision rule "
                                                              "to experiments started with auto_decide")

    @model_validator(mode="after")
    def _lease_covers_heartbeats(self) -> WorkerSettings:
        # Renewals come from a supervisor that does no heavy work, but on a loaded machine it (or
        # the database) can still be late: a lease must outlast at least two renewal periods so one
        # late renewal never loses a live job.
        if self.lease_s < 2 * self.heartbeat_s:
            raise ValueError("worker.lease_s must be at least 2 * worker.heartbeat_s")
        return self


class ServingSettings(_Section):
    memory_budget_bytes: int = Field(4 << 30, ge=1 << 20)
    max_queue: int = Field(256, ge=1)
    max_inflight: int = Field(128, ge=1, description="inference requests in flight per API process; past it, "
                                                      "503 before any work (keep it <= deployments' max_queue)")
    request_timeout_s: float = Field(30.0, gt=0)
    default_max_batch_size: int = Field(32, ge=1)
    default_max_wait_ms: float = Field(2.0, ge=0)
    alias_cache_s: float = Field(1.0, ge=0, description="how long a resolved alias is reused")
    key_cache_s: float = Field(2.0, ge=0, description="how long a verified API key is reused")


class SandboxSettings(_Section):
    """Limits of the process that validates an uploaded artifact before any serving process loads it."""

    memory_bytes: int = Field(4 << 30, ge=256 << 20, description="address space of one validation")
    cpu_s: int = Field(120, ge=1, description="CPU seconds of one validation")
    timeout_s: float = Field(180.0, gt=0, description="wall-clock seconds of one validation")
    max_concurrent: int = Field(2, ge=1, le=64, description="validations running at once per API process")


class ImageDatasetSettings(_Section):
    """Limits of one ``images`` dataset upload, read and decoded in a confined child process."""

    max_images: int = Field(100_000, ge=1, description="files in one archive")
    max_total_bytes: int = Field(1 << 30, ge=1 << 20, description="unpacked bytes of one archive")
    max_ratio: float = Field(50.0, ge=1, description="unpacked / packed size of one member (zip bombs)")
    max_image_bytes: int = Field(20 << 20, ge=1024, description="bytes of one picture")
    max_pixels: int = Field(40_000_000, ge=64, description="width x height one picture's header may declare "
                                                           "(decompression bombs)")
    memory_bytes: int = Field(4 << 30, ge=256 << 20, description="address space of the reading child")
    timeout_s: float = Field(900.0, gt=0, description="wall-clock seconds of one reading; CPU gets two thirds")


def _default_generation_threads() -> int:
    # llama.cpp scales with physical cores and degrades past them; 8 covers most servers and keeps a
    # default install from taking every core of a large machine away from the API and the workers.
    return max(1, min(os.cpu_count() or 1, 8))


class GenerationSettings(_Section):
    """Defaults of the ``llm`` runtime (GGUF models on llama.cpp); a version's params override them."""

    n_threads: int = Field(default_factory=_default_generation_threads, ge=1, le=256,
                           description="CPU threads of one generating process (default: the CPUs, at most 8)")
    concurrency: int = Field(1, ge=1, le=64, description="generating processes per loaded model: each holds "
                                                         "one copy of the model and runs one request at a time")
    max_queue: int = Field(16, ge=0, le=10_000, description="requests waiting for a free process; past it, "
                                                            "503 with Retry-After")
    request_timeout_s: float = Field(120.0, gt=0, le=3600, description="a generation still running after this "
                                                                      "is stopped and answered 504")
    n_ctx: int = Field(2048, ge=16, le=1 << 20, description="context window in tokens (prompt + completion); "
                                                           "capped by the model's own context length")


class MonitoringSettings(_Section):
    flush_interval_s: float = Field(5.0, gt=0, le=300, description="how often each API process adds its "
                                                                   "request counts to the stored rollups")
    minute_retention_days: int = Field(7, ge=1, le=366, description="per-minute rollups older than this are pruned")
    hour_retention_days: int = Field(90, ge=1, le=3660, description="per-hour rollups older than this are pruned")


class MeteringSettings(_Section):
    """Usage metered to the calling org (inference requests, errors and tokens per model and hour)."""

    enabled: bool = Field(True, description="count inference usage per calling org and enforce request quotas; "
                                            "false turns both off (compute and storage quotas still apply)")
    retention_days: int = Field(400, ge=1, le=3660, description="hourly usage older than this is pruned "
                                                                "(400: 13 months, a year back plus a month)")


class GcSettings(_Section):
    """The garbage collector: abandoned uploads, unreferenced blobs, dead workers' files, stale caches."""

    interval_s: float = Field(3600.0, ge=0, description="how often each API process collects; 0 disables")
    grace_s: float = Field(3600.0, ge=0, description="only what is older than this is collected, so "
                                                      "uploads and jobs in flight survive")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LIMELIGHT_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    mode: Literal["dev", "production"] = "dev"
    home: Path = DEFAULT_HOME
    database_url: str = ""
    artifacts_url: str = ""
    redis_url: str | None = None
    secret_key: str = ""
    config_file: Path | None = None
    server: ServerSettings = Field(default_factory=ServerSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    serving: ServingSettings = Field(default_factory=ServingSettings)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    image_datasets: ImageDatasetSettings = Field(default_factory=ImageDatasetSettings)
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    metering: MeteringSettings = Field(default_factory=MeteringSettings)
    gc: GcSettings = Field(default_factory=GcSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _ConfigFileSource(settings_cls))

    @model_validator(mode="after")
    def _fill_defaults_and_refuse_unsafe(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.home / 'limelight.db').as_posix()}"
        if not self.artifacts_url:
            self.artifacts_url = (self.home / "artifacts").resolve().as_uri()
        if self.mode == "production":
            _refuse_unsafe_production(self)
        return self

    def session_secret(self) -> str:
        """The key that signs UI session cookies: configured, or one generated per install in dev."""
        if self.secret_key:
            return self.secret_key
        path = self.home / "secret_key"
        if not path.exists():
            make_private_dirs(self.home)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(os.urandom(32).hex())
        return path.read_text().strip()


def _refuse_unsafe_production(settings: Settings) -> None:
    problems = []
    if len(settings.secret_key) < 32:
        problems.append("LIMELIGHT_SECRET_KEY must be set to at least 32 characters")
    if settings.database_url.startswith("sqlite") and settings.server.workers > 1:
        problems.append("several API workers need PostgreSQL, not SQLite")
    if problems:
        raise ValueError("unsafe production settings: " + "; ".join(problems))


class _ConfigFileSource(PydanticBaseSettingsSource):
    """Reads ``LIMELIGHT_CONFIG_FILE`` (TOML or JSON), lowest priority after the environment."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get("LIMELIGHT_CONFIG_FILE")
        if not path:
            return {}
        text = Path(path).read_text()
        data = json.loads(text) if path.endswith(".json") else tomllib.loads(text)
        return dict(data.get("limelight", data))


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
