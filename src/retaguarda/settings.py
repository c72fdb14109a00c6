"""Typed settings, read once at start from `RETAGUARDA_*` variables and passed down."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlparse


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    """`development` (keys generated into var/) or `production` (missing secrets stop the start)."""
    host: str = "127.0.0.1"
    """Interface the web server binds to."""
    port: int = 8000
    """Port the web server listens on."""
    var_dir: Path = Path("var")
    """Where SQLite files, generated dev keys, attachments and the sandbox outbox live."""
    database_url: str | None = None
    """`postgresql://user:pass@host:port/db`; unset means SQLite files under `var_dir`."""
    database_schema: str = ""
    """PostgreSQL schema for events and read models (empty: the server's default, `public`)."""
    redis_url: str | None = None
    """`redis://host:port/db`; unset means Dramatiq's StubBroker with an in-process worker."""
    secret_key: str = ""
    """Signs JWTs, session cookies and one-time tokens."""
    event_key: str = ""
    """Base64 AES key that encrypts event payloads at rest."""
    demo_password: str = "retaguarda-demo"
    """Password of the seeded demo users."""
    cors_origins: tuple[str, ...] = ()
    """Origins allowed by CORS; empty means no cross-origin access."""
    smtp_url: str | None = None
    """`smtp://user:pass@host:port` (or `smtps://`); unset means the sandbox outbox."""
    mail_from: str = "Retaguarda <no-reply@retaguarda.local>"
    """Sender address of outgoing e-mail."""
    public_url: str = ""
    """Base URL used in e-mailed links; defaults to http://host:port."""
    access_token_minutes: int = 15
    """Lifetime of API access tokens."""
    refresh_token_days: int = 30
    """Lifetime of a refresh-token family."""
    session_hours: int = 12
    """Lifetime of a UI session cookie."""
    max_body_bytes: int = 10 * 1024 * 1024
    """Largest request body accepted."""
    read_your_writes_timeout: float = 2.0
    """How long a write waits for the read models to catch up before answering anyway."""
    projector_batch_size: int = 500
    """Events per projection batch (one transaction)."""
    log_level: str = "INFO"
    """Minimum log level."""
    attachments_dir: Path | None = None
    """Where ticket attachments are stored (content-addressed); default `var_dir/attachments`."""
    # External systems: scheme and host only; each client appends its documented paths.
    nfse_nacional_url: str = "https://sefin.producaorestrita.nfse.gov.br"
    """Sefin Nacional API (NFS-e Nacional). Production: https://sefin.nfse.gov.br."""
    nfse_danfse_url: str = "https://adn.producaorestrita.nfse.gov.br"
    """ADN (DANFSe download) of the NFS-e Nacional. Production: https://adn.nfse.gov.br."""
    focus_url: str = "https://homologacao.focusnfe.com.br"
    """Focus NFe API. Production: https://api.focusnfe.com.br."""
    plugnotas_url: str = "https://api.sandbox.plugnotas.com.br"
    """TecnoSpeed PlugNotas API. Production: https://api.plugnotas.com.br."""
    cnpjws_url: str = "https://publica.cnpj.ws"
    """publica.cnpj.ws (free CNPJ lookup)."""
    brasilapi_url: str = "https://brasilapi.com.br"
    """BrasilAPI (CNPJ and CEP lookups)."""
    viacep_url: str = "https://viacep.com.br"
    """ViaCEP (CEP lookup, the fallback after BrasilAPI)."""
    receitaws_url: str = "https://receitaws.com.br"
    """ReceitaWS (CNPJ lookup)."""
    stripe_url: str = "https://api.stripe.com"
    """Stripe API."""
    mercadopago_url: str = "https://api.mercadopago.com"
    """Mercado Pago API."""
    cda_url: str = "https://api.cda.example"
    """CDA campaign provider (contract in docs/providers/cda.md)."""
    gosac_url: str = "https://api.gosac.example"
    """GOSAC campaign provider (contract in docs/providers/gosac.md)."""
    noah_url: str = "https://api.noah.example"
    """NOAH campaign provider (contract in docs/providers/noah.md)."""
    rcs_url: str = "https://rcsbusinessmessaging.googleapis.com"
    """Google RBM (RCS Business Messaging) API."""
    rcs_token_url: str = "https://oauth2.googleapis.com"
    """OAuth2 token endpoint host for the RBM service account."""
    salesforce_url: str = ""
    """Salesforce Marketing Cloud auth host; empty means the tenant's own subdomain setting."""
    sms_url: str = "https://api.sms.example"
    """SMS provider used for RCS fallback (contract in docs/providers/sms.md)."""
    otel_exporter: str = ""
    """OpenTelemetry span exporter: empty (none), `console` or an OTLP HTTP endpoint URL."""
    platform_operators: tuple[str, ...] = ()
    """E-mails (or user ids) of the platform operators: they run platform-wide jobs and see every
    tenant's job results. Set at deployment only; sign-up never grants it."""
    seal_key: str = ""
    """Base64 HMAC key of the audit seal chain (kept apart from the event key)."""
    claim_key: str = ""
    """Base64 HMAC key (≥ 16 bytes) deriving the ids of claims on CPFs/CNPJs, e-mails and other
    user-chosen unique keys, so the ids stored in clear reveal nothing (#20 defect 6)."""
    checkpoint_key: str = ""
    """Base64 Ed25519 private key (32 raw bytes) signing audit seal checkpoints."""
    checkpoint_every: int = 1000
    """A signed checkpoint of the seal head every this many sealed events (and at least hourly)."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses/networks of reverse proxies whose `X-Forwarded-For` names the real client."""

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def uses_postgres(self) -> bool:
        return bool(self.database_url)

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    def sqlalchemy_url(self) -> str:
        if self.database_url:
            parsed = urlparse(self.database_url)
            return "postgresql+psycopg://" + self.database_url.split("://", 1)[1] if parsed.scheme in (
                "postgres", "postgresql") else self.database_url
        return f"sqlite:///{(self.var_dir / 'read.sqlite').resolve()}"

    def eventsourcing_env(self) -> dict[str, str]:
        """Environment for the `eventsourcing` application: passed via env=, never ambient."""
        env = {
            # AES-GCM from `cryptography`: same stored format as eventsourcing.cipher:AESCipher
            # (nonce + tag + ciphertext), ~30x faster to decrypt, which replay needs.
            "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
            "CIPHER_KEY": self.event_key,
            # Read by Service.claim_id_of (shared.claims.keyed_claim_id), never by the library.
            "CLAIM_KEY": self.claim_key,
            "CREATE_TABLE": "y",
        }
        if self.database_url:
            parsed = urlparse(self.database_url)
            env.update(
                PERSISTENCE_MODULE="eventsourcing.postgres",
                POSTGRES_DBNAME=parsed.path.lstrip("/") or "retaguarda",
                POSTGRES_HOST=parsed.hostname or "127.0.0.1",
                POSTGRES_PORT=str(parsed.port or 5432),
                POSTGRES_USER=parsed.username or "postgres",
                POSTGRES_PASSWORD=parsed.password or "",
                POSTGRES_POOL_SIZE="10",
                POSTGRES_MAX_OVERFLOW="20",
                POSTGRES_LOCK_TIMEOUT="5",
            )
            if self.database_schema:
                env["POSTGRES_SCHEMA"] = self.database_schema
        else:
            env.update(
                PERSISTENCE_MODULE="eventsourcing.sqlite",
                SQLITE_DBNAME=str((self.var_dir / "events.sqlite").resolve()),
                SQLITE_LOCK_TIMEOUT="10",
            )
        return env


ENV_PREFIX = "RETAGUARDA_"
KNOWN_KEYS = frozenset(ENV_PREFIX + f.name.upper() for f in fields(Settings))


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Reads `RETAGUARDA_*` once. In development, missing keys are generated into var/ (0600)."""
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for f in fields(Settings):
        raw = environ.get(ENV_PREFIX + f.name.upper())
        if raw is None or raw == "":
            continue
        values[f.name] = _convert(f.name, f.type, raw)
    values.update(overrides)
    settings = Settings(**values)  # type: ignore[arg-type]
    if settings.env not in ("development", "production", "test"):
        raise SettingsError("RETAGUARDA_ENV must be development, production or test")
    return _with_keys(settings)


def _convert(name: str, type_: object, raw: str) -> object:
    type_name = str(type_)
    try:
        if "int" in type_name and "str" not in type_name:
            return int(raw)
        if "float" in type_name:
            return float(raw)
        if "Path" in type_name:
            return Path(raw)
        if "tuple" in type_name:
            return tuple(o.strip() for o in raw.split(",") if o.strip())
    except ValueError:
        raise SettingsError(f"{ENV_PREFIX}{name.upper()} is not a valid {type_name}") from None
    return raw


def _with_keys(settings: Settings) -> Settings:
    from dataclasses import replace

    changes: dict[str, str] = {}
    def random_b64() -> str:
        return base64.b64encode(secrets.token_bytes(32)).decode()

    for name, make in (("secret_key", lambda: secrets.token_urlsafe(48)),
                       ("event_key", random_b64), ("seal_key", random_b64), ("claim_key", random_b64),
                       ("checkpoint_key", random_b64)):
        if getattr(settings, name):
            continue
        if settings.is_production:
            raise SettingsError(
                f"{ENV_PREFIX}{name.upper()} is required when RETAGUARDA_ENV=production"
            )
        changes[name] = _dev_key(settings.var_dir, name, make)
    if settings.event_key or changes.get("event_key"):
        key = changes.get("event_key", settings.event_key)
        try:
            if len(base64.b64decode(key, validate=True)) not in (16, 24, 32):
                raise ValueError
        except ValueError:
            raise SettingsError(
                f"{ENV_PREFIX}EVENT_KEY must be a base64 AES key of 16, 24 or 32 bytes"
            ) from None
    claim_key = changes.get("claim_key", settings.claim_key)
    if claim_key:
        try:
            if len(base64.b64decode(claim_key, validate=True)) < 16:
                raise ValueError
        except ValueError:
            raise SettingsError(
                f"{ENV_PREFIX}CLAIM_KEY must be a base64 key of at least 16 bytes"
            ) from None
    return replace(settings, **changes) if changes else settings


def _dev_key(var_dir: Path, name: str, make: object) -> str:
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / f"{name}.txt"
    if path.exists():
        return path.read_text().strip()
    value = make()  # type: ignore[operator]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value
