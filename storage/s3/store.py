"""``S3Store``: a BlockStore over one ``s3://bucket/prefix`` (AWS, LocalStack, moto, MinIO).

Requests and why they look the way they do:

* ``put`` is one PUT below ``multipart_threshold`` (64 MiB) and a multipart upload above
  it, parts of ``multipart_chunksize`` (16 MiB) sent concurrently; a failed upload is
  aborted, and S3 shows a key only once its PUT or CompleteMultipartUpload succeeds, so
  readers never see half an object. The body is streamed from the caller's buffer without
  a copy (the shuffle writer hands over a memoryview of the Arrow buffer).
* ``get_ranges`` groups slices by key, merges slices closer than ``coalesce_gap`` into one
  ranged GET (``storage/s3/ranges.py``) and fetches the spans concurrently on a small
  thread pool; ``get_many`` fetches whole objects the same way.
* one boto3 client per store instance, created on first use (so a forked sandbox builds
  its own), with ``max_pool_connections`` above the fetch threads, and botocore's
  ``standard``/``adaptive`` retries for throttling, 5xx and dropped connections. What
  still fails is typed by ``storage/s3/errors.py``.
* keys are spread over hash-named prefixes (``storage/s3/layout.py``): list/delete by a
  caller prefix fan out to 16**spread concurrent LISTs.

Metrics count every HTTP request we make (botocore's own retries are counted apart in
``by_op["retries"]``), with bytes and seconds; ``by_op`` keys: put, mpu_create,
mpu_part, mpu_complete, mpu_abort, get, get_range, head, head_bucket, list, delete,
retries.

Measured with ``benchmarks/s3_store_probe.py`` against moto's server (a subprocess on
127.0.0.1) on this 2-core machine, while other jobs kept its load average at 10-14, so
the spread between runs is wide:

* single stream, 50 MB objects, best of 3: PUT 142 MB/s, GET 414 MB/s in the quietest of
  4 runs (75-142 and 250-414 in three, 36 and 99 in one at peak load); plain
  ``boto3.put_object``/``get_object`` of the same bytes in the same runs 132/424 (53-132
  and 108-424), i.e. no measurable overhead from the store (ARCHITECTURE.md: 127/295).
* coalescing, a 64x64 shuffle (64 map objects of 64 partitions x 16 KiB) read by 16
  reducers that each own 4 adjacent reduce partitions, through ``shuffle.read_blocks``:
  no coalescing 4096 GETs in 23.5 s, coalesced 1024 GETs in 5.9 s (loaded run: 39.7 s
  vs 10.0 s; the probe's default, 16 of the 64 partitions: 1024 GETs 8.9 s vs 256 GETs
  2.4 s) — 4x fewer requests, 4x less time, because moto (like S3) is bound by
  requests, not bytes. Reducers that read one partition each gain nothing: nothing is
  adjacent.
* the hashed layout's fan-out, see ``storage/s3/layout.py``.
"""

from __future__ import annotations

import io
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from storage.base import BlockNotFound, BlockStore, RangeRequest, StoreError
from storage.s3 import ranges
from storage.s3.config import MAX_PARTS, S3Config
from storage.s3.errors import MISSING_KEY, STREAM_BROKEN, error_code, translate
from storage.s3.layout import KeyLayout, check_key

T = TypeVar("T")
R = TypeVar("R")
DELETE_BATCH = 1000  # DeleteObjects' maximum
STREAM_READ_ATTEMPTS = 3  # botocore retries requests, not a body that breaks mid-read


class _ViewReader(io.RawIOBase):
    """A seekable file over a buffer, so botocore streams (and re-reads on retry) the
    caller's bytes without copying them."""

    def __init__(self, view: memoryview) -> None:
        self._view = view.cast("B") if view.format != "B" or view.ndim != 1 else view
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def __len__(self) -> int:
        return len(self._view)

    def readinto(self, b: Any) -> int:
        n = min(len(b), len(self._view) - self._pos)
        b[:n] = self._view[self._pos : self._pos + n]
        self._pos += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos


class S3Store(BlockStore):
    """Keys live at ``s3://bucket/<prefix>/<hash>/<key>``; see the module docstring."""

    def __init__(self, config: S3Config) -> None:
        super().__init__()
        self.config = config
        self.bucket = config.bucket
        self.uri = config.redacted_uri
        self.layout = KeyLayout(config.prefix, config.spread)
        self._lock = threading.Lock()
        self._client: Any = None
        self._pool: ThreadPoolExecutor | None = None
        self._pool_thread = threading.local()
        self._bucket_checked = False

    @classmethod
    def from_uri(cls, uri: str, conf: dict[str, str] | None = None) -> S3Store:
        return cls(S3Config.from_uri(uri, conf))

    def __repr__(self) -> str:
        return f"S3Store({self.uri!r})"

    # -- plumbing --------------------------------------------------------------------

    @property
    def client(self) -> Any:
        """The boto3 S3 client, made on first use (boto3 clients are thread-safe; making
        one is not, hence the lock)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make_client()
        return self._client

    def _make_client(self) -> Any:
        c = self.config
        session = boto3.session.Session(
            aws_access_key_id=c.access_key_id,
            aws_secret_access_key=c.secret_access_key,
            aws_session_token=c.session_token,
            region_name=c.region,
            profile_name=c.profile,
        )
        botocore_config = Config(
            max_pool_connections=c.max_pool_connections,
            retries={"mode": c.retry_mode, "max_attempts": c.max_attempts},
            connect_timeout=c.connect_timeout,
            read_timeout=c.read_timeout,
            tcp_keepalive=True,
            s3={"addressing_style": c.addressing_style},
        )
        return session.client("s3", endpoint_url=c.endpoint_url, config=botocore_config)

    def _map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``[fn(x) for x in items]`` on the store's thread pool; the first error cancels
        what has not started and is raised once the rest have finished."""
        if len(items) <= 1 or getattr(self._pool_thread, "inside", False):
            return [fn(x) for x in items]
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(
                        max_workers=self.config.fetch_threads,
                        thread_name_prefix="s3-store",
                        initializer=lambda: setattr(self._pool_thread, "inside", True),
                    )
        futures: list[Future[R]] = [self._pool.submit(fn, x) for x in items]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for f in pending:
            f.cancel()
        wait(futures)
        return [f.result() for f in futures]

    @contextmanager
    def _request(self, op: str, key: str = "") -> Iterator[list[int]]:
        """One HTTP request: timed, counted, errors typed. The body sets ``io[0]`` bytes
        read, ``io[1]`` bytes written, ``io[2]`` botocore retries."""
        io_ = [0, 0, 0]
        start = time.perf_counter()
        try:
            yield io_
        except (ClientError, BotoCoreError) as e:
            raise translate(e, store=self.uri, bucket=self.bucket, key=key, op=op) from e
        finally:
            elapsed = time.perf_counter() - start
            m = self.metrics
            with self._lock:
                m.requests += 1
                m.seconds += elapsed
                m.bytes_read += io_[0]
                m.bytes_written += io_[1]
                m.by_op[op] = m.by_op.get(op, 0) + 1
                if io_[2]:
                    m.by_op["retries"] = m.by_op.get("retries", 0) + io_[2]

    @staticmethod
    def _retries(resp: dict[str, Any]) -> int:
        return int(resp.get("ResponseMetadata", {}).get("RetryAttempts", 0))

    def _check_bucket(self) -> None:
        """A HEAD answers a bare 404 for a missing key and a missing bucket alike; tell
        them apart once per store so ``exists``/``size`` never hide a wrong bucket."""
        if self._bucket_checked:
            return
        try:
            with self._request("head_bucket") as io_:
                io_[2] = self._retries(self.client.head_bucket(Bucket=self.bucket))
        except BlockNotFound as e:  # HEAD of a bucket answers a bare 404 too
            raise translate(
                ClientError({"Error": {"Code": "NoSuchBucket"}}, "HeadBucket"),
                store=self.uri,
                bucket=self.bucket,
                op="head_bucket",
            ) from e
        self._bucket_checked = True

    def _missing(self, key: str) -> BlockNotFound:
        return BlockNotFound(f"no such key {key!r} in {self.uri}", store=self.uri, key=key)

    # -- writes ----------------------------------------------------------------------

    def put(self, key: str, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data)
        obj = self.layout.object_key(key)
        if view.nbytes < self.config.multipart_threshold:
            with self._request("put", key) as io_:
                resp = self.client.put_object(
                    Bucket=self.bucket, Key=obj, Body=_ViewReader(view), ContentLength=view.nbytes
                )
                io_[1], io_[2] = view.nbytes, self._retries(resp)
        else:
            self._put_multipart(key, obj, view)

    def _put_multipart(self, key: str, obj: str, view: memoryview) -> None:
        total = view.nbytes
        view = view.cast("B") if view.format != "B" or view.ndim != 1 else view
        part = max(self.config.multipart_chunksize, math.ceil(total / MAX_PARTS))
        with self._request("mpu_create", key) as io_:
            resp = self.client.create_multipart_upload(Bucket=self.bucket, Key=obj)
            upload_id, io_[2] = resp["UploadId"], self._retries(resp)

        def upload(number: int) -> dict[str, Any]:
            chunk = view[(number - 1) * part : number * part]
            with self._request("mpu_part", key) as io_:
                r = self.client.upload_part(
                    Bucket=self.bucket,
                    Key=obj,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=_ViewReader(chunk),
                    ContentLength=len(chunk),
                )
                io_[1], io_[2] = len(chunk), self._retries(r)
            return {"PartNumber": number, "ETag": r["ETag"]}

        try:
            parts = self._map(upload, range(1, math.ceil(total / part) + 1))
            with self._request("mpu_complete", key) as io_:
                resp = self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=obj,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
                io_[2] = self._retries(resp)
        except BaseException:
            try:
                with self._request("mpu_abort", key):
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=obj, UploadId=upload_id
                    )
            except StoreError:
                pass  # the upload's own error matters; a lifecycle rule reaps leftovers
            raise

    def put_stream(self, key: str, chunks: Iterable[bytes | bytearray | memoryview]) -> None:
        """A value larger than memory: multipart parts uploaded as they fill, one part
        buffered at a time; aborted on failure so nothing half-written is visible."""
        obj = self.layout.object_key(key)
        part_size = self.config.multipart_chunksize
        buf = bytearray()
        parts: list[dict[str, Any]] = []
        upload_id: str | None = None

        def flush(data: bytes | bytearray) -> None:
            nonlocal upload_id
            if upload_id is None:
                with self._request("mpu_create", key) as io_:
                    resp = self.client.create_multipart_upload(Bucket=self.bucket, Key=obj)
                    upload_id, io_[2] = resp["UploadId"], self._retries(resp)
            number = len(parts) + 1
            with self._request("mpu_part", key) as io_:
                r = self.client.upload_part(
                    Bucket=self.bucket, Key=obj, UploadId=upload_id, PartNumber=number,
                    Body=_ViewReader(memoryview(data)), ContentLength=len(data),
                )
                io_[1], io_[2] = len(data), self._retries(r)
            parts.append({"PartNumber": number, "ETag": r["ETag"]})

        try:
            for chunk in chunks:
                buf += chunk
                while len(buf) >= part_size:
                    flush(buf[:part_size])
                    del buf[:part_size]
            if upload_id is None:  # small: one plain PUT
                self.put(key, bytes(buf))
                return
            if buf:
                flush(buf)
            with self._request("mpu_complete", key) as io_:
                resp = self.client.complete_multipart_upload(
                    Bucket=self.bucket, Key=obj, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
                io_[2] = self._retries(resp)
        except BaseException:
            if upload_id is not None:
                try:
                    with self._request("mpu_abort", key):
                        self.client.abort_multipart_upload(Bucket=self.bucket, Key=obj, UploadId=upload_id)
                except StoreError:
                    pass
            raise

    # -- reads -----------------------------------------------------------------------

    def _get(self, op: str, key: str, byte_range: str | None) -> tuple[bytes, int | None]:
        """(body, object size if the response says) of one GET; a body that breaks
        mid-read is fetched again, since botocore only retries up to the headers."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": self.layout.object_key(key)}
        if byte_range:
            kwargs["Range"] = byte_range
        for attempt in range(STREAM_READ_ATTEMPTS):
            try:
                with self._request(op, key) as io_:
                    resp = self.client.get_object(**kwargs)
                    io_[2] = self._retries(resp)
                    data = resp["Body"].read()
                    io_[0] = len(data)
            except StoreError as e:
                if isinstance(e.__cause__, STREAM_BROKEN) and attempt + 1 < STREAM_READ_ATTEMPTS:
                    continue
                raise
            content_range = resp.get("ContentRange") or ""
            total = content_range.rpartition("/")[2]
            return data, int(total) if total.isdigit() else None
        raise AssertionError("unreachable")

    def get(self, key: str) -> bytes:
        check_key(key)
        return self._get("get", key, None)[0]

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        return self.get_ranges([RangeRequest(key, offset, length)])[0]

    def _fetch_span(self, span: ranges.Span) -> bytes:
        if span.length == 0:
            self.size(span.key)  # a missing key must still raise BlockNotFound
            return b""
        try:
            data, total = self._get("get_range", span.key, f"bytes={span.start}-{span.end - 1}")
        except StoreError as e:
            if isinstance(e.__cause__, ClientError) and error_code(e.__cause__) == "InvalidRange":
                data, total = b"", None
            else:
                raise
        if len(data) != span.length:
            raise StoreError(
                f"short read of {span.key!r} in {self.uri}: wanted {span.length} bytes at "
                f"{span.start}, got {len(data)}" + (f" (object is {total} bytes)" if total else ""),
                store=self.uri,
                key=span.key,
            )
        return data

    def get_ranges(self, requests: Iterable[RangeRequest]) -> list[bytes]:
        """Slices in request order: grouped by key, near neighbours coalesced into one
        ranged GET, spans fetched concurrently."""
        reqs = list(requests)
        for r in reqs:
            check_key(r.key)
        spans = ranges.plan(reqs, self.config.coalesce_gap, self.config.coalesce_limit)
        out: list[bytes] = [b""] * len(reqs)
        for span, data in zip(spans, self._map(self._fetch_span, spans)):
            for i, piece in ranges.split(span, data, reqs):
                out[i] = piece
        return out

    def get_many(self, keys: Iterable[str]) -> list[bytes]:
        return self._map(self.get, list(keys))

    def size(self, key: str) -> int:
        obj = self.layout.object_key(key)
        try:
            with self._request("head", key) as io_:
                resp = self.client.head_object(Bucket=self.bucket, Key=obj)
                io_[2] = self._retries(resp)
        except BlockNotFound:
            self._check_bucket()
            raise
        return int(resp["ContentLength"])

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except BlockNotFound:
            return False
        return True

    # -- listing and deletion --------------------------------------------------------

    def _list_objects(self, prefix: str) -> list[str]:
        """Object keys (ours) under every hash bucket's copy of ``prefix``, concurrently."""

        def one(s3_prefix: str) -> list[str]:
            found: list[str] = []
            token: str | None = None
            while True:
                kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": s3_prefix}
                if token:
                    kwargs["ContinuationToken"] = token
                with self._request("list", prefix) as io_:
                    resp = self.client.list_objects_v2(**kwargs)
                    io_[2] = self._retries(resp)
                found += [o["Key"] for o in resp.get("Contents", ())]
                token = resp.get("NextContinuationToken")
                if not resp.get("IsTruncated") or not token:
                    return found

        pages = self._map(one, self.layout.list_prefixes(prefix))
        return [
            obj
            for page in pages
            for obj in page
            if (k := self.layout.key_of(obj)) is not None and k.startswith(prefix)
        ]

    def list_prefix(self, prefix: str) -> Iterator[str]:
        """Keys starting with ``prefix`` (a plain string prefix), sorted."""
        keys = (self.layout.key_of(obj) for obj in self._list_objects(prefix))
        return iter(sorted(k for k in keys if k is not None))

    def delete_prefix(self, prefix: str) -> int:
        """Delete every key under ``prefix`` with DeleteObjects batches of 1000."""
        objects = self._list_objects(prefix)
        batches = [objects[i : i + DELETE_BATCH] for i in range(0, len(objects), DELETE_BATCH)]

        def delete(batch: list[str]) -> int:
            with self._request("delete", prefix) as io_:
                resp = self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
                )
                io_[2] = self._retries(resp)
            errors = [e for e in resp.get("Errors", ()) if e.get("Code") not in MISSING_KEY]
            if errors:
                first = errors[0]
                raise translate(
                    ClientError({"Error": first}, "DeleteObjects"),
                    store=self.uri,
                    bucket=self.bucket,
                    key=first.get("Key", ""),
                    op="delete",
                )
            return len(batch)

        return sum(self._map(delete, batches))

    def close(self) -> None:
        """Stop the fetch threads and the client's connections; the store stays usable
        (both are made again on next use)."""
        with self._lock:
            pool, self._pool = self._pool, None
            client, self._client = self._client, None
        if pool is not None:
            pool.shutdown(wait=True)
        if client is not None:
            client.close()
