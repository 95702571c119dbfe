"""How a ``crail://`` URI and the servers' size options are read and checked.

``crail://host:port`` is the metadata server. Options (query string):
``timeout`` (seconds, default 10) bounds every connect/send/receive, so a dead server
makes a call fail instead of hang; ``pool`` (default 4) is how many idle connections a
client keeps per server; ``window`` (default 64) is how many requests a pipelined
``get_ranges`` keeps in flight on one connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from storage.units import parse_size  # noqa: F401 - re-exported for serve.py

DEFAULT_PORT = 9060


@dataclass(frozen=True)
class CrailConfig:
    host: str
    port: int
    timeout: float = 10.0
    pool: int = 4
    window: int = 64

    @property
    def uri(self) -> str:
        return f"crail://{self.host}:{self.port}"


def _positive(name: str, value: str, kind: type, uri: str) -> float:
    try:
        out = kind(value)
    except ValueError:
        raise ValueError(f"crail option {name}={value!r} is not a number in {uri!r}") from None
    if out <= 0:
        raise ValueError(f"crail option {name} must be > 0, got {value!r} in {uri!r}")
    return out


def parse_uri(uri: str) -> CrailConfig:
    """Validate ``uri``; raises ``ValueError`` saying what is wrong."""
    parts = urlsplit(uri)
    if parts.scheme != "crail":
        raise ValueError(f"not a crail:// store URI: {uri!r}")
    if not parts.hostname:
        raise ValueError(f"crail store URI needs the metadata server's host: {uri!r}")
    if parts.path not in ("", "/"):
        raise ValueError(f"crail store URI takes no path (got {parts.path!r}) in {uri!r}")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ValueError(f"bad port in crail store URI {uri!r}") from None
    options = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = set(options) - {"timeout", "pool", "window"}
    if unknown:
        raise ValueError(f"unknown crail store option(s) {sorted(unknown)} in {uri!r}")
    return CrailConfig(
        host=parts.hostname,
        port=port,
        timeout=float(_positive("timeout", options.get("timeout", "10"), float, uri)),
        pool=int(_positive("pool", options.get("pool", "4"), int, uri)),
        window=int(_positive("window", options.get("window", "64"), int, uri)),
    )


def parse_address(text: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """``"host:port"`` (or ``":port"``, or a crail:// URI) → (host, port)."""
    if text.startswith("crail://"):
        cfg = parse_uri(text)
        return cfg.host, cfg.port
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    return host or default_host, int(port)
