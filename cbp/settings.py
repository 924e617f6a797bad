"""Settings from the environment (prefix ``CBP_``), with embedded defaults."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cbp.adapters.http.networks import allowed_networks
from cbp.domain.webhook_endpoint import DEFAULT_RETRY_SCHEDULE


class ConfigurationError(RuntimeError):
    """The settings do not describe a process that can run; the message says why."""


class Settings(BaseSettings):
    """Every knob of cbp; each one can be set as ``CBP_<NAME>``.

    The defaults run everything in one process with no server to install:
    SQLite in ``./cbp.db`` (created and migrated on first run, its secrets in
    ``./cbp.db.secrets.json``), in-process broker, cache and rate limits.
    ``CBP_ENCRYPTION_KEYS`` is a comma-separated list of Fernet keys, the
    newest first.
    """

    model_config = SettingsConfigDict(env_prefix="CBP_", extra="ignore")

    database_url: str = "sqlite:///cbp.db"
    auto_migrate: bool | None = None
    broker_url: str = "memory://"
    cache_url: str = "memory://"
    rate_limit_url: str = "memory://"
    redis_prefix: str = "cbp:"
    processor: Literal["simulator", "http", "nacha"] = "simulator"
    processor_settle_after_seconds: float = Field(default=0.0, ge=0)
    processor_url: str | None = None
    processor_token: SecretStr | None = None
    processor_client_cert: str | None = None
    processor_client_key: str | None = None
    processor_ca_file: str | None = None
    processor_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    processor_read_timeout_seconds: float = Field(default=10.0, gt=0)
    processor_webhook_secrets: SecretStr | None = None
    processor_webhook_tolerance_seconds: float = Field(default=300.0, gt=0)
    verifier: Literal["rules", "http"] = "rules"
    verifier_url: str | None = None
    verifier_token: SecretStr | None = None
    verifier_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    verifier_read_timeout_seconds: float = Field(default=5.0, gt=0)
    notifier: Literal["log", "memory", "providers"] = "log"
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_sender: str = "cbp@localhost"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_require_tls: bool = False
    smtp_ca_file: str | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    sms_url: str | None = None
    sms_token: SecretStr | None = None
    sms_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    sms_read_timeout_seconds: float = Field(default=5.0, gt=0)
    webhook_allowed_networks: str = ""
    webhook_retry_schedule: tuple[float, ...] = Field(
        default=DEFAULT_RETRY_SCHEDULE, min_length=1, max_length=50
    )
    webhook_pause_after_seconds: float = Field(default=5 * 24 * 3600.0, gt=0)
    webhook_secret_overlap_seconds: float = Field(default=24 * 3600.0, ge=0)
    webhook_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    webhook_read_timeout_seconds: float = Field(default=5.0, gt=0)
    breaker_url: str = "memory://"
    breaker_failure_threshold: int = Field(default=5, ge=1, le=1000)
    breaker_reset_seconds: float = Field(default=30.0, gt=0)
    bulkhead_max_concurrent: int = Field(default=16, ge=1, le=1000)
    bulkhead_max_waiting: int = Field(default=16, ge=0, le=10000)
    bulkhead_wait_seconds: float = Field(default=1.0, ge=0)
    outbound_retry_attempts: int = Field(default=3, ge=1, le=20)
    outbound_retry_base_seconds: float = Field(default=0.2, ge=0)
    outbound_retry_max_seconds: float = Field(default=2.0, ge=0)
    outbound_deadline_seconds: float = Field(default=15.0, gt=0)
    dns_nameserver: str | None = None
    api_key_secret: SecretStr | None = None
    encryption_keys: SecretStr | None = None
    audit_key: SecretStr | None = None
    database_pool_size: int = Field(default=10, ge=1, le=200)
    max_notification_attempts: int = Field(default=8, ge=1, le=50)
    recurring_days_ahead: int = Field(default=3, ge=0, le=60)
    micro_deposit_expiry_seconds: float = Field(default=7 * 24 * 3600.0, gt=0)
    directory_cache_ttl_seconds: float = Field(default=300.0, gt=0)
    default_page_size: int = Field(default=20, ge=1, le=100)
    max_page_size: int = Field(default=100, ge=1, le=1000)
    service_endpoints: dict[str, list[str]] = Field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    http_workers: int = Field(default=1, ge=1, le=64)
    http_threads: int = Field(default=8, ge=1, le=256)
    http_header_timeout_seconds: float = Field(default=10.0, gt=0)
    http_body_timeout_seconds: float = Field(default=30.0, gt=0)
    http_keepalive_seconds: float = Field(default=75.0, gt=0)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=10 * 1024 * 1024)
    rate_limit: int = Field(default=600, ge=1)
    auth_failure_limit: int = Field(default=100, ge=1)
    rate_window_seconds: int = Field(default=60, ge=1)
    pump_interval_seconds: float = Field(default=0.2, gt=0)
    delivery_lease_seconds: float = Field(default=60.0, gt=0)
    delivery_max_attempts: int = Field(default=8, ge=1, le=100)
    delivery_retry_base_seconds: float = Field(default=1.0, ge=0)
    delivery_retry_max_seconds: float = Field(default=300.0, ge=0)
    queue_prefix: str = ""
    worker_processes: int = Field(default=1, ge=1, le=64)
    worker_threads: int = Field(default=8, ge=1, le=256)
    relay_interval_seconds: float = Field(default=0.2, gt=0)
    reconcile_interval_seconds: float = Field(default=30.0, gt=0)
    processor_ledger_path: str | None = None
    nacha_outbound_dir: str = "ach/outbound"
    nacha_odfi_routing: str = Field(default="011000015", pattern=r"^[0-9]{9}$")
    nacha_destination_routing: str = Field(default="011000015", pattern=r"^[0-9]{9}$")
    nacha_destination_name: str = Field(default="FEDERAL RESERVE BANK", max_length=23)
    nacha_origin_id: str = Field(default="1234567890", pattern=r"^[0-9A-Z ]{1,10}$")
    nacha_origin_name: str = Field(default="CBP BILL PAY", max_length=23)
    nacha_company_name: str = Field(default="CBP BILL PAY", max_length=16)
    nacha_company_id: str = Field(default="1234567890", pattern=r"^[0-9A-Z ]{1,10}$")
    nacha_sec_code: Literal["PPD", "CCD"] = "PPD"
    nacha_cutoff_times: str = Field(
        default="10:00,14:00,16:30", pattern=r"^\d{2}:\d{2}(,\d{2}:\d{2})*$"
    )
    message_retention_days: float = Field(default=7.0, gt=0)
    demo_seed: bool | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    otlp_endpoint: str | None = None
    trace_context_test_endpoint: bool = False

    @field_validator("redis_prefix")
    @classmethod
    def _redis_namespace(cls, prefix: str) -> str:
        """A namespace ending in ``:``, so ``cbp`` and ``cbp:`` both give ``cbp:cache...``."""
        prefix = prefix.strip()
        if not prefix.rstrip(":"):
            raise ValueError("must name a namespace, such as cbp")
        return prefix if prefix.endswith(":") else f"{prefix}:"

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _webhook_networks(cls, text: str) -> str:
        """Refused at start-up: a typo, or a network overlapping loopback or link-local."""
        allowed_networks(text)
        return text

    def backend(self, url: str) -> str:
        """The adapter family a URL names: ``memory``, ``sqlite``, ``postgresql``..."""
        return urlsplit(url).scheme.split("+", 1)[0]

    @property
    def migrates_on_start(self) -> bool:
        """Whether opening the database migrates it (default: SQLite only)."""
        if self.auto_migrate is not None:
            return self.auto_migrate
        return self.backend(self.database_url) == "sqlite"

    @property
    def seeds_demo(self) -> bool:
        """Whether a fresh install gets a demo directory, tenant and key (SQLite: yes)."""
        if self.demo_seed is not None:
            return self.demo_seed
        return self.backend(self.database_url) == "sqlite"

    def require_shared_processor_books(self, why: str) -> None:
        """Refuse a start among several processes while the simulator's books are each its own.

        Without ``processor_ledger_path`` every process keeps a simulated
        processor in its own memory, so one process's reconciler would send
        again what another's worker sent.
        """
        if self.processor == "simulator" and not self.processor_ledger_path:
            raise ConfigurationError(
                f"{why}, and the simulated processor keeps its books in each process's memory: "
                "set CBP_PROCESSOR_LEDGER_PATH to a file every process shares "
                "(or CBP_PROCESSOR=http or nacha)"
            )

    def secret(self, name: str) -> str | None:
        """A secret setting's plain value, or None when unset."""
        value = getattr(self, name)
        return value.get_secret_value() if isinstance(value, SecretStr) else None

    def for_container(self) -> dict[str, Any]:
        """The plain values the container's Configuration provider reads."""
        secret_names = {
            name
            for name, field in type(self).model_fields.items()
            if field.annotation in (SecretStr, SecretStr | None)
        }
        values = self.model_dump(exclude=secret_names)  # NOTE: adapters read secrets here
        values.update(
            storage=self.backend(self.database_url),
            broker=self.backend(self.broker_url),
            cache=self.backend(self.cache_url),
            rate_limit=self.backend(self.rate_limit_url),
            breakers=self.backend(self.breaker_url),
            migrates_on_start=self.migrates_on_start,
        )
        return values
