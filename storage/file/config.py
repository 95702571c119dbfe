"""How a ``file://`` store URI is read and checked (the file backend owns its settings).

Accepted forms: ``file:///abs/dir``, ``file://localhost/abs/dir``, ``file:/abs/dir`` and a
bare ``/abs/dir``. Options: ``?fsync=true`` makes ``put`` durable across a machine crash
(shuffle data is recomputable from lineage, so the default skips the fsync cost);
``?direct=true`` reads and writes with ``O_DIRECT``, bypassing the page cache (see
``storage.file.direct`` for when that pays).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class LocalDirConfig:
    """Where the store lives, whether writes are fsynced, whether I/O is direct."""

    root: Path
    fsync: bool = False
    direct: bool = False


def parse_uri(uri: str) -> LocalDirConfig:
    """Validate ``uri`` and return its config; raises ``ValueError`` with the reason."""
    if uri.startswith("/"):
        uri = "file://" + uri
    parts = urlsplit(uri)
    if parts.scheme != "file":
        raise ValueError(f"not a file:// store URI: {uri!r}")
    if parts.netloc not in ("", "localhost"):
        raise ValueError(
            f"file store URI must be local (file:///abs/path), got host {parts.netloc!r} in {uri!r}"
        )
    path = unquote(parts.path)
    if not path.startswith("/"):
        raise ValueError(f"file store path must be absolute: {uri!r}")
    options = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(options) - {"fsync", "direct"}
    if unknown:
        raise ValueError(f"unknown file store option(s) {sorted(unknown)} in {uri!r}")
    flags = {}
    for name in ("fsync", "direct"):
        if name in options:
            value = options[name][-1].lower()
            if value not in _TRUE | _FALSE:
                raise ValueError(f"{name} must be true or false, got {value!r} in {uri!r}")
            flags[name] = value in _TRUE
    return LocalDirConfig(root=Path(os.path.normpath(path)), **flags)
