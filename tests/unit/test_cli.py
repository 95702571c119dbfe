"""The ``sparkless`` command line, without a real server.

Parsing and the bind/token guard are tested in-process. The signal handling of
``server`` and the child process of ``submit`` are tested in a subprocess whose
``SparkConnectServer`` is a stand-in, so that signals never touch pytest itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sparkless import cli

ROOT = Path(__file__).resolve().parents[2]

# Runs ``sparkless`` with a stand-in server that records what it was given and,
# when stopped, posts one job's events so the submit summary has something to count.
FAKE_MAIN = textwrap.dedent(
    """
    import sys, threading
    from sparkless import cli
    from sparkless.scheduler import listener as ev

    class FakeServer:
        def __init__(self, host, port, token, conf, store):
            self.args = (host, port, token, conf, store)
            self.listeners = ev.ListenerBus()
            self._stopped = threading.Event()

        def start(self):
            print("fake-server", self.args, file=sys.stderr, flush=True)
            return 4242

        def wait(self):
            self._stopped.wait()

        def stop(self, grace=None):
            for e in (ev.JobStart("j", "collect", 1), ev.StageSubmitted("j", 0, 2, "ResultStage 0"),
                      ev.TaskEnd("j", 0, 0, 0, True, 0.1), ev.TaskEnd("j", 0, 1, 0, True, 0.1),
                      ev.StageCompleted("j", 0, 2, 0.5), ev.JobEnd("j", True, 0.6)):
                self.listeners.post(e)
            self._stopped.set()

    cli._make_server = FakeServer
    sys.exit(cli.main(sys.argv[1:]))
    """
)


def _fake_cli(*args: str, env: dict[str, str] | None = None, **kw) -> subprocess.Popen:
    full_env = dict(os.environ, PYTHONPATH=str(ROOT))
    full_env.pop(cli.TOKEN_ENV, None)
    full_env.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-c", FAKE_MAIN, *args],
        env=full_env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def test_parse_conf() -> None:
    assert cli.parse_conf(["a=1", "b=x=y", "a=2", "c="]) == {"a": "2", "b": "x=y", "c": ""}
    for bad in ("novalue", "=v"):
        with pytest.raises(cli.UsageError):
            cli.parse_conf([bad])


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"])
def test_loopback_hosts(host: str) -> None:
    assert cli.is_loopback(host)
    cli.check_bind(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "example.com"])
def test_non_loopback_needs_a_token(host: str) -> None:
    assert not cli.is_loopback(host)
    with pytest.raises(cli.UsageError, match="without a token"):
        cli.check_bind(host, None)
    cli.check_bind(host, "secret")


def test_server_refuses_public_bind_without_token(monkeypatch, capsys) -> None:
    monkeypatch.delenv(cli.TOKEN_ENV, raising=False)

    def no_server(*_a, **_k):
        raise AssertionError("the server must not be created")

    monkeypatch.setattr(cli, "_make_server", no_server)
    with pytest.raises(SystemExit) as exc:
        cli.main(["server", "--host", "0.0.0.0", "--port", "0"])
    assert exc.value.code == 2
    assert "SPARKLESS_AUTH_TOKEN" in capsys.readouterr().err


def test_endpoint_brackets_ipv6() -> None:
    assert cli.endpoint("127.0.0.1", 15002) == "sc://127.0.0.1:15002"
    assert cli.endpoint("::1", 7) == "sc://[::1]:7"


def test_parser_defaults_and_submit_remainder() -> None:
    p = cli.build_parser()
    a = p.parse_args(["server"])
    assert (a.host, a.port, a.token, a.store, a.conf) == ("127.0.0.1", 15002, None, None, [])
    a = p.parse_args(
        ["submit", "--conf", "k=v", "--store", "file:///s", "job.py", "--conf", "x", "-v", "1"]
    )
    assert a.script == "job.py" and a.conf == ["k=v"] and a.store == "file:///s"
    assert a.args == ["--conf", "x", "-v", "1"]  # everything after the script is the script's


def test_version(capsys) -> None:
    assert cli.main(["version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("sparkless ") and "pyspark" in out


def test_server_prints_ready_line_and_stops_cleanly_on_signal() -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        proc = _fake_cli(
            "server",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--conf",
            "a=b",
            env={cli.TOKEN_ENV: "tok"},
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == "sparkless: Spark Connect server listening on sc://0.0.0.0:4242\n"
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert "('0.0.0.0', 0, 'tok', {'a': 'b'}, None)" in err  # token from the environment


def test_submit_runs_script_with_spark_remote_and_its_exit_code(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text(
        "import os, sys\n"
        "print('remote', os.environ['SPARK_REMOTE'], sys.argv[1:])\n"
        "print('to stderr', file=sys.stderr)\n"
        "sys.exit(3)\n"
    )
    proc = _fake_cli("submit", "--conf", "spark.sql.shuffle.partitions=4", str(script), "x", "-y")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    assert out == "remote sc://127.0.0.1:4242 ['x', '-y']\n"
    assert "to stderr" in err
    assert "{'spark.sql.shuffle.partitions': '4'}" in err
    assert "[Stage 0] 2 tasks done in 0.50 s" in err  # stderr is a pipe: one line per stage
    assert err.rstrip().splitlines()[-1].startswith("sparkless: 1 job, 1 stage, 2 tasks in ")


def test_submit_missing_script_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["submit", "does/not/exist.py"])
    assert exc.value.code == 2
    assert "no such script" in capsys.readouterr().err
