"""Connections to Redis and what their failures mean to the shuffle layer.

redis-py does the pooling and the retries of dropped or refused connections (with
exponential backoff); this module configures both so that every wait is bounded, and
turns redis-py's exceptions into the store's typed errors, each naming the store.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from storage.base import StoreError, TransientStoreError
from storage.redisstore.config import RedisConfig

T = TypeVar("T")


class StoreFull(StoreError):
    """The server refused a write: it reached ``maxmemory`` (with a no-eviction policy)."""


class StoreAuthError(StoreError):
    """Wrong, missing or insufficient credentials: retrying cannot help."""


_PERMANENT = (redis.AuthenticationError, redis.exceptions.AuthorizationError)


class _Retry(Retry):
    """redis-py's Retry, except that a refused password is not retried (it is a subclass of
    ConnectionError, which is retried by default)."""

    def call_with_retry(
        self,
        do: Callable[[], T],
        fail: Callable[..., Any],
        is_retryable: Callable[[Exception], bool] | None = None,
        with_failure_count: bool = False,
    ) -> T:
        def retryable(error: Exception) -> bool:
            if isinstance(error, _PERMANENT):
                return False
            return is_retryable is None or is_retryable(error)

        return super().call_with_retry(do, fail, retryable, with_failure_count)


def make_pool(config: RedisConfig) -> redis.ConnectionPool:
    """One pool per store; callers beyond ``max_connections`` wait up to ``socket_timeout``."""
    retry = _Retry(
        ExponentialBackoff(cap=config.backoff_cap, base=config.backoff_base),
        config.retries,
        supported_errors=(redis.ConnectionError, redis.TimeoutError, socket.timeout),
    )
    kwargs: dict[str, Any] = dict(
        host=config.host,
        port=config.port,
        db=config.db,
        username=config.username,
        password=config.password,
        socket_timeout=config.socket_timeout or None,
        socket_connect_timeout=config.connect_timeout or None,
        socket_keepalive=True,
        retry=retry,
        client_name="sparkless",
        max_connections=config.max_connections,
        timeout=config.socket_timeout or None,
    )
    if config.tls:
        kwargs.update(
            connection_class=redis.SSLConnection,
            ssl_cert_reqs=config.ssl_cert_reqs,
            ssl_ca_certs=config.ssl_ca_certs,
        )
    return redis.BlockingConnectionPool(**kwargs)


def _server_message(error: Exception) -> str:
    """The server's own words, without redis-py's "Command # 3 (SET ...) of pipeline
    caused error:" preamble (which would dump the command's arguments)."""
    text = str(error)
    return text.rpartition("caused error: ")[2] if "of pipeline caused error: " in text else text


def _full(uri: str, key: str, error: Exception) -> StoreFull:
    return StoreFull(
        f"Redis store {uri} is full: the server refused to write {key!r} "
        f"(OOM {_server_message(error).rstrip('.')}). "
        "Raise the server's maxmemory (CONFIG SET maxmemory ...), free memory on it, or run "
        "the job with another store (spark.sparkless.store=s3://... or file://...).",
        store=uri,
        key=key,
    )


@contextmanager
def translated(uri: str, key: str, retries: int) -> Iterator[None]:
    """Run a block of redis-py calls; its failures leave as the store's typed errors."""
    try:
        yield
    except StoreError:
        raise
    except (*_PERMANENT, redis.exceptions.NoPermissionError) as e:
        given = "a wrong password" if ":***@" in uri else "no password"
        raise StoreAuthError(
            f"Redis store {uri} refused the connection ({given} in the store URI): "
            f"{_server_message(e).rstrip('.')}. Put the right password in the "
            "store URI (redis://:PASSWORD@host:port/db or redis://USER:PASSWORD@host:port/db).",
            store=uri,
            key=key,
        ) from e
    except redis.exceptions.OutOfMemoryError as e:
        raise _full(uri, key, e) from e
    except redis.exceptions.ExecAbortError as e:
        if "OOM" in str(e):
            raise _full(uri, key, e) from e
        raise StoreError(
            f"Redis store {uri}: transaction on {key!r} aborted: {e}", store=uri, key=key
        ) from e
    except (redis.ConnectionError, redis.TimeoutError, OSError) as e:
        raise TransientStoreError(
            f"Redis store {uri} unreachable while accessing {key!r} "
            f"(gave up after {retries} retries): {e}",
            store=uri,
            key=key,
        ) from e
    except redis.RedisError as e:
        raise StoreError(
            f"Redis store {uri} failed on {key!r}: {_server_message(e)}", store=uri, key=key
        ) from e
