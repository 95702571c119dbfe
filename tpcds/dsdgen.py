"""Find a DuckDB that can load the TPC-DS extension without the network.

Why this module exists: ``INSTALL tpcds`` downloads from DuckDB's extension site, which
is not reachable here, and no ``duckdb-extension-tpcds`` / ``duckdb-ext-tpcds`` wheel is
built for DuckDB 2.0 (the newest, ``duckdb-extension-tpcds==1.5.5``, refuses to load
into 2.0: "built specifically for DuckDB version 'v1.5.5'"; forcing it with
``allow_extensions_metadata_mismatch`` fails in its init, "Missing DB manager").

So generation runs in a child Python whose ``sys.path`` starts with a side directory
holding the matching pair ``duckdb==1.5.5`` + ``duckdb-extension-tpcds==1.5.5``
(installed once with ``pip install --target`` from PyPI; no venv is created). The
project's own DuckDB 2.0 stays untouched; only the generator uses 1.5.5. If the
in-process DuckDB can already ``LOAD tpcds`` (a future matching wheel, or a cached
``INSTALL``), that is used instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

GEN_DUCKDB_VERSION = "1.5.5"
GEN_REQUIREMENTS = (f"duckdb=={GEN_DUCKDB_VERSION}", f"duckdb-extension-tpcds=={GEN_DUCKDB_VERSION}")
RUNTIME_DIR = Path(
    os.environ.get(
        "SPARKLESS_TPCDS_GEN_RUNTIME",
        Path.home() / ".cache" / "sparkless" / f"tpcds-gen-duckdb-{GEN_DUCKDB_VERSION}",
    )
)

# Executed inside the child: load the packaged extension file by path.
LOADER = """
import os, duckdb, duckdb_extension_tpcds as _m
_EXT = os.path.join(os.path.dirname(_m.__file__), "extensions",
                    "v" + duckdb.__version__, "tpcds.duckdb_extension")
def connect(path=":memory:"):
    con = duckdb.connect(path)
    con.execute(f"LOAD '{_EXT}'")
    return con
"""


def inprocess_available() -> bool:
    """True when the project's own DuckDB loads ``tpcds`` (no side runtime needed)."""
    import duckdb

    try:
        duckdb.connect().execute("LOAD tpcds")
    except duckdb.Error:
        return False
    return True


def ensure_runtime() -> Path:
    """Install the pinned generator pair into :data:`RUNTIME_DIR` once; return the dir."""
    marker = RUNTIME_DIR / "duckdb_extension_tpcds"
    if not marker.exists():
        RUNTIME_DIR.mkdir(parents=True, exist_ok=True)
        print(f"tpcds: installing {' '.join(GEN_REQUIREMENTS)} into {RUNTIME_DIR}", flush=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(RUNTIME_DIR),
             *GEN_REQUIREMENTS],
            check=True,
        )
    return RUNTIME_DIR


def run_script(body: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``body`` (Python, with ``connect()`` defined) under a tpcds-capable DuckDB.

    Output is streamed to this process's stdout so progress lines show as they happen,
    except when the caller needs them (``capture``) -- see :func:`run_capture`.
    """
    return _run(body, args, capture=False)


def run_capture(body: str, *args: str) -> str:
    """Like :func:`run_script` but returns the child's stdout."""
    return _run(body, args, capture=True).stdout


def _run(body: str, args: tuple[str, ...], capture: bool) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if inprocess_available():
        loader = "import duckdb\ndef connect(path=':memory:'):\n" \
                 "    c = duckdb.connect(path); c.execute('LOAD tpcds'); return c\n"
    else:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(ensure_runtime()), *filter(None, [env.get("PYTHONPATH")])]
        )
        loader = LOADER
    return subprocess.run(
        [sys.executable, "-c", loader + "\n" + body, *args],
        env=env, check=True, text=True, capture_output=capture,
    )
