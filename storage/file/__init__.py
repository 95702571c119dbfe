"""Local-directory store: ``file:///abs/path``."""

from storage.file.config import LocalDirConfig, parse_uri
from storage.file.store import LocalDirStore

__all__ = ["LocalDirConfig", "LocalDirStore", "parse_uri"]
