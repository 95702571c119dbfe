"""Output commit protocol: a written directory appears whole or not at all.

Each task attempt writes into its own directory under a hidden staging directory
beside the target (same file system, so renames are atomic). When every task has
succeeded, the driver gathers the accepted attempts' files into one tree, adds
``_SUCCESS`` and renames that tree into place. A failed job removes its staging
directory and leaves the target as it was.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from sparkless.errors import AnalysisException, unsupported

MODES = ("error", "overwrite", "append", "ignore")


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
            raise AnalysisException(
                f"Path file:{self.target} already exists. Set mode as \"overwrite\" to overwrite "
                "the existing path.",
                "PATH_ALREADY_EXISTS",
                sql_state="42K04",
                parameters={"outputPath": f"file:{self.target}"},
            )
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
