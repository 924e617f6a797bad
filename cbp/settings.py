"""Settings from the environment (prefix ``CBP_``), with embedded defaults."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cbp.adapters.http_clients.networks import allowed_networks
from cbp.domain.webhook_endpoint import DEFAULT_RETRY_SCHEDULE

#: The URL schemes each backend setting takes: the adapters there are.
_BACKENDS = {
    "database_url": ("sqlite", "postgresql", "memory"),
    "broker_url": ("memory", "amqp", "redis"),
    "cache_url": ("memory", "redis"),
    "rate_limit_url": ("memory", "redis"),
    "breaker_url": ("memory", "redis"),
}


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

    model_config = SettingsConfigDict(
        env_prefix="CBP_", extra="ignore", use_attribute_docstrings=True
    )

    database_url: str = "sqlite:///cbp.db"
    """`sqlite:///PATH`, `postgresql://user@host/db` (psycopg 3), or `memory://` (nothing kept; one
    serving process, so `CBP_HTTP_WORKERS=1`).
    """
    auto_migrate: bool | None = None
    """Migrate when a process opens the database; unset, SQLite does and PostgreSQL does not (run
    `cbp migrate`).
    """
    broker_url: str = "memory://"
    """`amqp://...` (RabbitMQ) or `redis://...`, and then run `cbp relay` and `cbp worker`;
    `memory://` is the in-process broker of `cbp serve`.
    """
    cache_url: str = "memory://"
    """`redis://host:6379/0` shares the directory cache between processes; `memory://` keeps it in
    each.
    """
    rate_limit_url: str = "memory://"
    """`redis://host:6379/0` shares rate limits between processes; `memory://` counts in each."""
    redis_prefix: str = "cbp:"
    """Namespace of every Redis key cbp writes (cache, rate limits, breakers, Dramatiq's
    namespace); a `:` is added when it does not end in one.
    """
    processor: Literal["simulator", "http", "nacha"] = "simulator"
    """Who moves the money: the in-process `simulator`, `http` (the processor protocol over HTTP),
    or `nacha` (ACH files for the bank).
    """
    processor_settle_after_seconds: float = Field(default=0.0, ge=0)
    """The simulator's settlement delay."""
    processor_url: str | None = None
    """The processor's base URLs: `http://a:8100,http://b:8100`, or
    `srv://_processor._tcp.bank.example` (`srv+https://` for TLS).
    """
    processor_token: SecretStr | None = None
    """Bearer token sent to the processor."""
    processor_client_cert: str | None = None
    """Mutual TLS with the processor: the client certificate (PEM)."""
    processor_client_key: str | None = None
    """Mutual TLS with the processor: the client certificate's key (PEM)."""
    processor_ca_file: str | None = None
    """The CA that signed the processor's certificate (PEM)."""
    processor_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    """How long a connection to the processor may take."""
    processor_read_timeout_seconds: float = Field(default=10.0, gt=0)
    """How long the processor may take to answer a call."""
    processor_webhook_secrets: SecretStr | None = None
    """`whsec_...` secrets that sign inbound processor events (comma-separated, to rotate)."""
    processor_webhook_tolerance_seconds: float = Field(default=300.0, gt=0)
    """How old an inbound processor event's timestamp may be."""
    verifier: Literal["rules", "http"] = "rules"
    """Who verifies accounts: `rules` (ABA checksum and biller masks, in process) or `http`."""
    verifier_url: str | None = None
    """The verifier's base URLs, as for the processor."""
    verifier_token: SecretStr | None = None
    """Bearer token sent to the verifier."""
    verifier_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    """How long a connection to the verifier may take."""
    verifier_read_timeout_seconds: float = Field(default=5.0, gt=0)
    """How long the verifier may take to answer a call."""
    notifier: Literal["log", "memory", "providers"] = "log"
    """`log` (notices in the log), `providers` (email and SMS, each where configured) or `memory`
    (tests); webhooks always go to the tenant's registered endpoint.
    """
    smtp_host: str | None = None
    """The mail server; STARTTLS whenever it offers it."""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    """The mail server's port."""
    smtp_sender: str = "cbp@localhost"
    """The From address of every email."""
    smtp_username: str | None = None
    """The mail server login, if it asks for one."""
    smtp_password: SecretStr | None = None
    """The mail server password."""
    smtp_require_tls: bool = False
    """Refuse a mail server that does not offer STARTTLS."""
    smtp_ca_file: str | None = None
    """The CA to trust for the mail server's certificate (PEM)."""
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    """How long a call to the mail server may take."""
    sms_url: str | None = None
    """The SMS provider (`POST {url}/v1/messages`)."""
    sms_token: SecretStr | None = None
    """Bearer token sent to the SMS provider."""
    sms_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    """How long a connection to the SMS provider may take."""
    sms_read_timeout_seconds: float = Field(default=5.0, gt=0)
    """How long the SMS provider may take to answer."""
    webhook_allowed_networks: str = ""
    """Comma-separated networks (CIDR, such as `10.20.0.0/16`) where webhooks may go besides the
    public internet, for receivers on a private network; one overlapping loopback, link-local,
    unspecified or multicast space is refused at start-up.
    """
    webhook_retry_schedule: tuple[float, ...] = Field(
        default=DEFAULT_RETRY_SCHEDULE, min_length=1, max_length=50
    )
    """Seconds between a webhook's attempts (a JSON list; by default about 3.2 days in all)."""
    webhook_pause_after_seconds: float = Field(default=5 * 24 * 3600.0, gt=0)
    """An endpoint failing every delivery this long (5 days) is paused and its tenant told."""
    webhook_secret_overlap_seconds: float = Field(default=24 * 3600.0, ge=0)
    """After a rotation, the old webhook secret keeps signing this long."""
    webhook_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    """How long a connection to a webhook receiver may take."""
    webhook_read_timeout_seconds: float = Field(default=5.0, gt=0)
    """How long a webhook receiver may take to answer."""
    breaker_url: str = "memory://"
    """`redis://...` shares circuit breaker state between processes; `memory://` keeps it in each.
    """
    breaker_failure_threshold: int = Field(default=5, ge=1, le=1000)
    """Failures in a row that open a dependency's circuit breaker."""
    breaker_reset_seconds: float = Field(default=30.0, gt=0)
    """How long an open breaker waits before its probe."""
    bulkhead_max_concurrent: int = Field(default=16, ge=1, le=1000)
    """Per dependency: calls at once."""
    bulkhead_max_waiting: int = Field(default=16, ge=0, le=10000)
    """Per dependency: callers queued for a free slot."""
    bulkhead_wait_seconds: float = Field(default=1.0, ge=0)
    """Per dependency: how long a queued caller waits."""
    outbound_retry_attempts: int = Field(default=3, ge=1, le=20)
    """Attempts of a safe outbound call (full-jitter exponential back-off)."""
    outbound_retry_base_seconds: float = Field(default=0.2, ge=0)
    """The first back-off of an outbound retry."""
    outbound_retry_max_seconds: float = Field(default=2.0, ge=0)
    """The longest back-off of an outbound retry."""
    outbound_deadline_seconds: float = Field(default=15.0, gt=0)
    """An outbound call and its retries give up after this."""
    dns_nameserver: str | None = None
    """`host:port` of the name server for SRV look-ups; unset, the host's."""
    api_key_secret: SecretStr | None = None
    """The server secret API keys are hashed with; required on PostgreSQL, on SQLite kept in
    `<database>.secrets.json` when unset.
    """
    encryption_keys: SecretStr | None = None
    """Fernet keys that encrypt account numbers, comma-separated, newest first; required on
    PostgreSQL, on SQLite kept in `<database>.secrets.json` when unset.
    """
    audit_key: SecretStr | None = None
    """The HMAC key of the audit chain; derived from `CBP_API_KEY_SECRET` when unset."""
    database_pool_size: int = Field(default=10, ge=1, le=200)
    """PostgreSQL connections each process keeps (as many again on demand)."""
    max_notification_attempts: int = Field(default=8, ge=1, le=50)
    """Provider refusals (a bad address) before a notice is dead; a channel that is down spends
    none.
    """
    recurring_days_ahead: int = Field(default=3, ge=0, le=60)
    """How many days before its send-on date each occurrence of a recurring payment becomes a
    payment.
    """
    check_mailing_days: int = Field(default=5, ge=1, le=30)
    """Business days a mailed check takes to reach a payee without an electronic path: a biller
    paid by check (never fewer than its own lead days) or a personal payee.
    """
    checks: Literal["processor", "printed"] = "processor"
    """How payees without an electronic path are paid: through `processor` like any payee (it
    prints and mails the checks), or `printed` by cbp: numbered checks in print files for the
    bank's check vendor, with Positive Pay files, in `CBP_CHECK_OUTBOUND_DIR`.
    """
    check_outbound_dir: str = "checks/outbound"
    """Where each print run's print file and Positive Pay file are put (with `printed` checks)."""
    check_first_number: int = Field(default=1001, ge=1, le=99_999_999)
    """The first number of each tenant's check range (with `printed` checks)."""
    micro_deposit_expiry_seconds: float = Field(default=7 * 24 * 3600.0, gt=0)
    """How long a customer has to confirm a funding account's micro-deposits (7 days)."""
    directory_cache_ttl_seconds: float = Field(default=300.0, gt=0)
    """How long a directory search stays cached (payee events clear it sooner)."""
    default_page_size: int = Field(default=20, ge=1, le=100)
    """A list's page without `limit`."""
    max_page_size: int = Field(default=100, ge=1, le=1000)
    """The most a list's `limit` may ask."""
    service_endpoints: dict[str, list[str]] = Field(default_factory=dict)
    """JSON: base URLs by service name (`{"processor": ["http://a", "http://b"]}`), for several
    instances without DNS.
    """
    host: str = "127.0.0.1"
    """Where `cbp serve` listens (`--host` overrides it)."""
    port: int = Field(default=8000, ge=1, le=65535)
    """The port `cbp serve` listens on (`--port` overrides it)."""
    http_workers: int = Field(default=1, ge=1, le=64)
    """gunicorn worker processes of `cbp serve`."""
    http_threads: int = Field(default=8, ge=1, le=256)
    """Threads per gunicorn worker that run requests."""
    http_header_timeout_seconds: float = Field(default=10.0, gt=0)
    """A client that has not sent a whole request line and headers by then is disconnected."""
    http_body_timeout_seconds: float = Field(default=30.0, gt=0)
    """A body not received whole by then is answered 408."""
    http_keepalive_seconds: float = Field(default=75.0, gt=0)
    """How long an idle connection is kept (longer than clients' pools, so they close first)."""
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=10 * 1024 * 1024)
    """Larger request bodies are answered 413."""
    rate_limit: int = Field(default=600, ge=1)
    """Requests per API key per window."""
    auth_failure_limit: int = Field(default=100, ge=1)
    """Bad keys an address may send per window before its bad keys get 429."""
    rate_window_seconds: int = Field(default=60, ge=1)
    """The rate limits' moving window, in whole seconds."""
    pump_interval_seconds: float = Field(default=0.2, gt=0)
    """How often the embedded default's in-process pump looks for work."""
    delivery_lease_seconds: float = Field(default=60.0, gt=0)
    """A delivery not done by then is sent again."""
    delivery_max_attempts: int = Field(default=8, ge=1, le=100)
    """Attempts before a delivery is dead-lettered."""
    delivery_retry_base_seconds: float = Field(default=1.0, ge=0)
    """The first back-off of a failed delivery (exponential, full jitter)."""
    delivery_retry_max_seconds: float = Field(default=300.0, ge=0)
    """The longest back-off of a failed delivery."""
    queue_prefix: str = ""
    """Prefix of every broker queue name, so that deployments can share a broker."""
    worker_processes: int = Field(default=1, ge=1, le=64)
    """Processes `cbp worker` runs."""
    worker_threads: int = Field(default=8, ge=1, le=256)
    """Threads in each `cbp worker` process."""
    relay_interval_seconds: float = Field(default=0.2, gt=0)
    """How often `cbp relay` looks for new outbox rows and due deliveries."""
    reconcile_interval_seconds: float = Field(default=30.0, gt=0)
    """How often the reconciler and the sweep run."""
    processor_ledger_path: str | None = None
    """The simulator's books in a file shared by every process (else in memory); `cbp worker`, `cbp
    relay` and `CBP_HTTP_WORKERS` above 1 refuse to start on the simulator without it.
    """
    nacha_outbound_dir: str = "ach/outbound"
    """Where each cut-off's ACH file is put for the bank's transmission system."""
    nacha_odfi_routing: str = Field(default="011000015", pattern=r"^[0-9]{9}$")
    """The originating bank's routing number."""
    nacha_destination_routing: str = Field(default="011000015", pattern=r"^[0-9]{9}$")
    """The routing number the ACH file goes to."""
    nacha_destination_name: str = Field(default="FEDERAL RESERVE BANK", max_length=23)
    """The name of where the ACH file goes, in its header."""
    nacha_origin_id: str = Field(default="1234567890", pattern=r"^[0-9A-Z ]{1,10}$")
    """The originator's id in the ACH file header."""
    nacha_origin_name: str = Field(default="CBP BILL PAY", max_length=23)
    """The originator's name in the ACH file header."""
    nacha_company_name: str = Field(default="CBP BILL PAY", max_length=16)
    """The company name in each batch header."""
    nacha_company_id: str = Field(default="1234567890", pattern=r"^[0-9A-Z ]{1,10}$")
    """The company id in each batch header."""
    nacha_sec_code: Literal["PPD", "CCD"] = "PPD"
    """`PPD` for consumers' accounts, `CCD` for business accounts."""
    nacha_cutoff_times: str = Field(
        default="10:00,14:00,16:30", pattern=r"^\d{2}:\d{2}(,\d{2}:\d{2})*$"
    )
    """The bank's cut-offs, New York time, comma-separated."""
    message_retention_days: float = Field(default=7.0, gt=0)
    """Delivered messages are purged after this."""
    demo_seed: bool | None = None
    """Seed a demo directory, tenant and key on a fresh database; unset, SQLite does and PostgreSQL
    does not.
    """
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """JSON logs on stderr from this level."""
    otlp_endpoint: str | None = None
    """Export spans over OTLP/HTTP to this URL."""
    trace_context_test_endpoint: bool = False
    """Serve the W3C Trace Context conformance endpoint (never in production)."""

    @field_validator("database_url", "broker_url", "cache_url", "rate_limit_url", "breaker_url")
    @classmethod
    def _known_backend(cls, url: str, info: ValidationInfo) -> str:
        """Refused at start-up: a URL whose scheme no adapter serves."""
        known = _BACKENDS[str(info.field_name)]
        scheme = urlsplit(url).scheme.split("+", 1)[0]
        if scheme not in known:
            raise ValueError(f"must start with one of {', '.join(f'{k}://' for k in known)}")
        return url

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
