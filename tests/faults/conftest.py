"""The fault tests' servers: real ones, each on its own file store, stopped after the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from sparkless.connect.server import SparkConnectServer


@pytest.fixture()
def make_server(request: pytest.FixtureRequest, tmp_path) -> Iterator[Callable[..., SparkConnectServer]]:
    """``make(**conf)`` starts a server; the test module's ``SERVER_CONF`` is the base conf."""
    base = getattr(request.module, "SERVER_CONF", {})
    made: list[SparkConnectServer] = []

    def make(**conf: str) -> SparkConnectServer:
        srv = SparkConnectServer(port=0, conf={**base, **conf}, store=f"file://{tmp_path}/store-{len(made)}")
        srv.start()
        made.append(srv)
        return srv

    yield make
    for srv in made:
        srv.stop(grace=1)
