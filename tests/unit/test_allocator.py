"""executors.allocator: DuckDB's jemalloc and Arrow's mimalloc settings, set before they load."""

from __future__ import annotations

import os
import subprocess
import sys

from executors import allocator


def test_function_env_adds_the_setting_and_keeps_an_operators_own():
    assert allocator.function_env({})[allocator.DUCKDB_MALLOC_CONF_VAR] == allocator.DUCKDB_MALLOC_CONF
    own = {allocator.DUCKDB_MALLOC_CONF_VAR: "dirty_decay_ms:0"}
    assert allocator.function_env(own)[allocator.DUCKDB_MALLOC_CONF_VAR] == "dirty_decay_ms:0"


def _duckdb_with(conf: str) -> subprocess.CompletedProcess:
    """A fresh interpreter running one query with ``conf`` plus jemalloc's abort_conf,
    which makes jemalloc abort on any option it does not accept."""
    env = {**os.environ, allocator.DUCKDB_MALLOC_CONF_VAR: conf + ",abort_conf:true"}
    code = "import duckdb; print(duckdb.sql('SELECT sum(range) FROM range(100000)').fetchall()[0][0])"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def test_duckdbs_jemalloc_reads_the_variable_and_accepts_our_settings():
    ours = _duckdb_with(allocator.DUCKDB_MALLOC_CONF)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout.strip() == str(sum(range(100000)))
    bogus = _duckdb_with("no_such_option:1")  # control: the variable really is read
    assert bogus.returncode != 0 and "no_such_option" in bogus.stderr


def test_function_env_sets_arrows_mimalloc_purge_delay_and_keeps_an_operators_own():
    assert allocator.function_env({})[allocator.MIMALLOC_PURGE_DELAY_VAR] == str(allocator.RETAIN_MS)
    own = {allocator.MIMALLOC_PURGE_DELAY_VAR: "0"}
    assert allocator.function_env(own)[allocator.MIMALLOC_PURGE_DELAY_VAR] == "0"


def _mimalloc_options(env: dict[str, str]) -> str:
    """The options Arrow's bundled mimalloc reports when it initialises (MIMALLOC_VERBOSE)."""
    code = "import pyarrow as pa; pa.allocate_buffer(1 << 20, memory_pool=pa.mimalloc_memory_pool())"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MIMALLOC_")}, **env, "MIMALLOC_VERBOSE": "1"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_arrows_mimalloc_reads_the_purge_delay():
    ours = _mimalloc_options(dict(allocator.function_env({})))
    assert f"option 'purge_delay': {allocator.RETAIN_MS}" in ours
    default = _mimalloc_options({})  # control: without the variable mimalloc purges at 10 ms
    assert "option 'purge_delay': " in default and f"option 'purge_delay': {allocator.RETAIN_MS}" not in default
