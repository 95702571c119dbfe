"""Output commit protocol: a written directory appears whole or not at all.

Each task attempt writes into its own directory under a hidden staging directory
beside the target (same file system, so renames are atomic). When every task has
succeeded, the driver gathers the accepted attempts' files into one tree, adds
``_SUCCESS`` and renames that tree into place. A failed job removes its staging
directory and leaves the target as it was.

On an object store (``s3://``, ``s3a://``: ``ObjectCommitter``) there is no rename, so it
is Spark's committer on S3: tasks upload under a hidden staging prefix beside the target,
the driver copies the accepted attempts' files into place (server-side), removes what an
overwrite replaces, writes ``_SUCCESS`` last and deletes the staging prefix; a failed job
deletes the staging prefix and never touches the target.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path

from sparkless.errors import AnalysisException, unsupported
from storage import files as storage_files

MODES = ("error", "overwrite", "append", "ignore")


def committer_for(target: str, mode: str, conf: Mapping[str, str] | None = None) -> FileCommitter:
    """The commit protocol for ``target``'s file system."""
    if storage_files.scheme(target) in ("s3", "s3a"):
        return ObjectCommitter(target, mode, conf)
    return FileCommitter(target, mode)


def already_exists(shown: str) -> AnalysisException:
    return AnalysisException(
        f"Path {shown} already exists. Set mode as \"overwrite\" to overwrite the existing path.",
        "PATH_ALREADY_EXISTS",
        sql_state="42K04",
        parameters={"outputPath": shown},
    )


class FileCommitter:
    def __init__(self, target: str, mode: str) -> None:
        if target.startswith("file:"):
            from urllib.parse import urlparse

            target = urlparse(target).path
        elif "://" in target:
            raise unsupported(f"Writing to {target.split('://')[0]}:// paths")
        self.target = Path(os.path.abspath(target))
        self.mode = mode
        self.job = uuid.uuid4().hex[:12]
        self.staging = self.target.parent / f".sparkless-staging-{self.target.name}-{self.job}"

    def should_write(self) -> bool:
        """False for mode ignore on an existing path; raises for mode error."""
        if not self.target.exists():
            return True
        if self.mode == "ignore":
            return False
        if self.mode == "error":
            raise already_exists(f"file:{self.target}")
        return True

    def task_dir(self, partition: int, attempt: int) -> str:
        return str(self.staging / f"task-{partition:05d}-attempt-{attempt}")

    def file_prefix(self, partition: int) -> str:
        return f"part-{partition:05d}-{self.job}"

    def commit(self, accepted: dict[int, dict]) -> None:
        final = self.staging / "final"
        final.mkdir(parents=True, exist_ok=True)
        for partition in sorted(accepted):
            src_root = Path(accepted[partition]["path"])
            if not src_root.exists():
                continue
            for dirpath, _, files in os.walk(src_root):
                rel = Path(dirpath).relative_to(src_root)
                for f in files:
                    dest = final / rel / f
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(Path(dirpath) / f, dest)
        (final / "_SUCCESS").touch()
        self.target.parent.mkdir(parents=True, exist_ok=True)
        if self.mode == "append" and self.target.exists():
            for dirpath, _, files in os.walk(final):
                rel = Path(dirpath).relative_to(final)
                for f in files:
                    dest = self.target / rel / f
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(Path(dirpath) / f, dest)
        elif self.target.exists():  # overwrite: swap, then drop the old tree
            trash = self.staging / "old"
            os.replace(self.target, trash)
            os.replace(final, self.target)
        else:
            os.replace(final, self.target)
        self.abort()

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


class ObjectCommitter:
    """The commit protocol on S3 (see the module docstring); the same methods as
    ``FileCommitter``, with URIs where that has paths."""

    def __init__(self, target: str, mode: str, conf: Mapping[str, str] | None) -> None:
        self.target = target.rstrip("/")
        self.mode = mode
        self.conf = dict(conf or {})
        self.job = uuid.uuid4().hex[:12]
        parent, name = storage_files.parent_and_name(self.target)
        self.staging = storage_files.join(parent, f".sparkless-staging-{name or 'root'}-{self.job}")

    def should_write(self) -> bool:
        if not storage_files.exists(self.target, self.conf):
            return True
        if self.mode == "ignore":
            return False
        if self.mode == "error":
            raise already_exists(self.target)
        return True

    def task_dir(self, partition: int, attempt: int) -> str:
        return storage_files.join(self.staging, f"task-{partition:05d}-attempt-{attempt}")

    def file_prefix(self, partition: int) -> str:
        return f"part-{partition:05d}-{self.job}"

    def commit(self, accepted: dict[int, dict]) -> None:
        old = [] if self.mode == "append" else [p for p, _ in storage_files.listing(self.target, self.conf) or []]
        pairs = [
            (storage_files.join(accepted[p]["path"], rel), storage_files.join(self.target, rel))
            for p in sorted(accepted)
            for rel in accepted[p].get("files") or []
        ]
        storage_files.copy(pairs, self.conf)
        new = {dst for _, dst in pairs}
        marker = storage_files.join(self.target, "_SUCCESS")
        storage_files.delete([p for p in old if p not in new and p != marker], self.conf)
        storage_files.write_bytes(marker, b"", self.conf)
        self.abort()

    def abort(self) -> None:
        storage_files.delete_tree(self.staging, self.conf)
