"""How a ``redis://`` / ``rediss://`` store URI is read and checked (the backend owns its settings).

Form: ``redis://[[user]:password@]host[:port][/db][?option=value&...]``; ``rediss://`` is the
same over TLS. Options (all optional):

=================== ========= ======================================================
option              default   meaning
=================== ========= ======================================================
``chunk_size``      64MiB     values larger than this are split into chunks (Redis caps a
                              string at 512 MB; smaller chunks also keep one command from
                              blocking the single-threaded server for long)
``socket_timeout``  30        seconds a read/write on an open connection may take
``connect_timeout`` 5         seconds to open a connection
``retries``         3         retries of a dropped/refused/timed-out request, with
                              exponential backoff (``backoff_base`` .. ``backoff_cap`` s)
``backoff_base``    0.05
``backoff_cap``     1.0
``max_connections`` 32        connections in this store's pool (callers beyond it wait)
``ssl_cert_reqs``   required  ``rediss://`` only: ``required``, ``optional`` or ``none``
``ssl_ca_certs``    (system)  ``rediss://`` only: a CA bundle file
=================== ========= ======================================================

The password never appears in ``RedisConfig.redacted_uri``, which is what error messages and
``store.uri`` show.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from storage.units import parse_size

DEFAULT_PORT = 6379
MAX_CHUNK = 512 * 1024 * 1024 - 1024  # Redis's proto-max-bulk-len, less some slack
_CERT_REQS = ("required", "optional", "none")


@dataclass(frozen=True)
class RedisConfig:
    """Everything needed to open connections to one Redis database."""

    host: str
    port: int = DEFAULT_PORT
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls: bool = False
    chunk_size: int = 64 << 20
    socket_timeout: float = 30.0
    connect_timeout: float = 5.0
    retries: int = 3
    backoff_base: float = 0.05
    backoff_cap: float = 1.0
    max_connections: int = 32
    ssl_cert_reqs: str = "required"
    ssl_ca_certs: str | None = None

    @property
    def redacted_uri(self) -> str:
        """The URI without options and with the password replaced by ``***``."""
        scheme = "rediss" if self.tls else "redis"
        auth = ""
        if self.password is not None:
            auth = f"{self.username or ''}:***@"
        elif self.username:
            auth = f"{self.username}@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{auth}{host}:{self.port}/{self.db}"


def _number(options: dict[str, str], name: str, default: float, uri: str) -> float:
    if name not in options:
        return default
    try:
        value = float(options[name])
    except ValueError:
        raise ValueError(f"{name} must be a number, got {options[name]!r} in {uri!r}") from None
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value} in {uri!r}")
    return value


def parse_uri(uri: str) -> RedisConfig:
    """Validate ``uri`` and return its config; raises ``ValueError`` with the reason."""
    parts = urlsplit(uri)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"not a redis:// or rediss:// store URI: {uri!r}")
    safe = RedisConfig(host=parts.hostname or "?", tls=parts.scheme == "rediss").redacted_uri
    if not parts.hostname:
        raise ValueError(f"redis store URI needs a host (redis://host:port/db): {safe!r}")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ValueError(f"bad port in redis store URI {safe!r}") from None
    db_text = parts.path.strip("/") or "0"
    if not db_text.isdigit():
        raise ValueError(f"redis database must be a number (redis://host:port/0), got {db_text!r}")
    raw = parse_qs(parts.query, keep_blank_values=True)
    options = {k: v[-1] for k, v in raw.items()}
    known = {
        "chunk_size",
        "socket_timeout",
        "connect_timeout",
        "retries",
        "backoff_base",
        "backoff_cap",
        "max_connections",
        "ssl_cert_reqs",
        "ssl_ca_certs",
    }
    unknown = set(options) - known
    if unknown:
        raise ValueError(f"unknown redis store option(s) {sorted(unknown)} in {safe!r}")
    chunk = parse_size(options["chunk_size"]) if "chunk_size" in options else 64 << 20
    if not 1 <= chunk <= MAX_CHUNK:
        raise ValueError(f"chunk_size must be in [1, {MAX_CHUNK}] bytes, got {chunk}")
    cert_reqs = options.get("ssl_cert_reqs", "required").lower()
    if cert_reqs not in _CERT_REQS:
        raise ValueError(f"ssl_cert_reqs must be one of {_CERT_REQS}, got {cert_reqs!r}")
    max_conn = int(_number(options, "max_connections", 32, safe))
    if max_conn < 1:
        raise ValueError(f"max_connections must be >= 1, got {max_conn}")
    return RedisConfig(
        host=parts.hostname,
        port=port,
        db=int(db_text),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        tls=parts.scheme == "rediss",
        chunk_size=chunk,
        socket_timeout=_number(options, "socket_timeout", 30.0, safe),
        connect_timeout=_number(options, "connect_timeout", 5.0, safe),
        retries=int(_number(options, "retries", 3, safe)),
        backoff_base=_number(options, "backoff_base", 0.05, safe),
        backoff_cap=_number(options, "backoff_cap", 1.0, safe),
        max_connections=max_conn,
        ssl_cert_reqs=cert_reqs,
        ssl_ca_certs=options.get("ssl_ca_certs") or None,
    )
