"""``terraform fmt -check`` over infra/: the one Terraform step that runs without providers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOW_TO = (
    "terraform is not on PATH. Install it (https://developer.hashicorp.com/terraform/install, "
    "or `apt-get install terraform` from HashiCorp's apt repository); `fmt` needs no "
    "providers and no network."
)


def test_terraform_fmt_is_clean() -> None:
    binary = shutil.which("terraform")
    assert binary, HOW_TO
    for folder in ("infra/terraform", "infra/localstack"):
        result = subprocess.run(
            [binary, "fmt", "-check", "-recursive", "-diff", folder],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, (
            f"terraform fmt -check failed in {folder}; run `terraform fmt -recursive {folder}`\n"
            f"{result.stdout}{result.stderr}"
        )
