"""Files by URI for everything above the shuffle: readers, writers, the commit protocol,
the warehouse and cached DataFrames.

Three kinds of path, one small set of operations (list, size, read, write, copy, delete):

* a local path or ``file:`` URI — the operating system;
* ``s3://`` / ``s3a://`` — pyarrow's S3 file system (``storage/s3/files.py``);
* ``sparkless://<store>/<key>`` — the keys of a BlockStore (``storage/blockfs.py``).

``register(con, conf)`` makes the remote kinds readable (and the S3 kind writable) by a
DuckDB connection; the driver registers them on its analysis connection and every task
on its own before running SQL that names such a path, so data is read in the function.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

from storage import BlockNotFound, blockfs
from storage.s3 import files as s3files

REMOTE = (*s3files.SCHEMES, blockfs.SCHEME)


def scheme(path: str) -> str:
    """``s3``, ``s3a``, ``sparkless``, or ``file`` for a local path / ``file:`` URI."""
    head, sep, _ = path.partition("://")
    return head.lower() if sep and head.lower() in REMOTE else "file"


def is_remote(path: str) -> bool:
    return scheme(path) != "file"


def local(path: str) -> str:
    """A local path or ``file:`` URI as an absolute path."""
    return urlparse(path).path if path.startswith("file:") else os.path.abspath(path)


def join(base: str, *parts: str) -> str:
    if not is_remote(base):
        return os.path.join(local(base), *parts)
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])


def parent_and_name(path: str) -> tuple[str, str]:
    path = path.rstrip("/")
    if not is_remote(path):
        p = local(path)
        return os.path.dirname(p), os.path.basename(p)
    head, _, name = path.rpartition("/")
    if head.endswith(":/"):  # s3://bucket: the bucket is its own parent
        return path, ""
    return head, name


def same_or_under(path: str, root: str) -> bool:
    """``path`` is ``root`` or inside it (URIs compared with s3a:// as s3://)."""
    def norm(p: str) -> str:
        if not is_remote(p):
            return local(p).rstrip(os.sep) + "/"
        s = scheme(p)
        return ("s3" if s == "s3a" else s) + "://" + p.split("://", 1)[1].strip("/") + "/"

    return norm(path).startswith(norm(root))


# ---- listing ---------------------------------------------------------------------------


def _s3_info(uri: str, conf: Mapping[str, str] | None):  # noqa: ANN202
    from pyarrow import fs as pafs

    s3 = s3files.filesystem(conf)
    return s3, pafs, s3.get_file_info(s3files.strip(uri))


def listing(path: str, conf: Mapping[str, str] | None = None) -> list[tuple[str, int]] | None:
    """Every file at or under ``path`` with its size (recursive, sorted), or None if
    ``path`` does not exist. Hidden names are the caller's business."""
    kind = scheme(path)
    if kind == "file":
        p = local(path)
        if os.path.isfile(p):
            return [(p, os.path.getsize(p))]
        if not os.path.isdir(p):
            return None
        out = []
        for root, dirs, names in os.walk(p):
            dirs.sort()
            out += [(os.path.join(root, n), os.path.getsize(os.path.join(root, n))) for n in sorted(names)]
        return out
    if kind == blockfs.SCHEME:
        store, key = blockfs.store_of(path, conf)
        try:
            return [(path, store.size(key))]
        except BlockNotFound:
            pass
        base = path.rstrip("/")
        keys = sorted(store.list_prefix(key.rstrip("/") + "/"))
        if not keys:
            return None
        return [(f"{base}/{k[len(key.rstrip('/')) + 1:]}", store.size(k)) for k in keys]
    s3, pafs, info = _s3_info(path, conf)
    head = path.split("://", 1)[0] + "://"
    if info.type == pafs.FileType.File:
        return [(path, info.size)]
    if info.type == pafs.FileType.NotFound:
        return None
    selector = pafs.FileSelector(s3files.strip(path), recursive=True, allow_not_found=True)
    found = [
        (head + i.path, i.size) for i in s3.get_file_info(selector) if i.type == pafs.FileType.File
    ]
    return sorted(found)


def listing_or_empty(path: str, conf: Mapping[str, str] | None = None) -> list[tuple[str, int]]:
    """``listing``, with a missing path or bucket as no files (a table or warehouse that
    has not been written yet)."""
    try:
        return listing(path, conf) or []
    except FileNotFoundError:  # pyarrow: the bucket does not exist
        return []


def hidden(name: str) -> bool:
    """Spark's file index skips names starting with ``_`` or ``.`` (metadata, markers)."""
    return name.startswith(("_", "."))


def exists(path: str, conf: Mapping[str, str] | None = None) -> bool:
    """A file, or a directory (a prefix) holding at least one file."""
    try:
        found = listing(path, conf)
    except FileNotFoundError:  # pyarrow: the bucket does not exist
        return False
    return bool(found) or (found is not None and not is_remote(path))


_sizes: dict[str, int] = {}
_sizes_lock = threading.Lock()


def remember_sizes(files: Iterable[tuple[str, int]]) -> None:
    """Sizes seen when listing remote files, so planning does not ask the store again."""
    with _sizes_lock:
        if len(_sizes) > 200_000:
            _sizes.clear()
        _sizes.update(files)


def size(path: str, conf: Mapping[str, str] | None = None) -> int:
    """A file's size; remote sizes come from the last listing (0 if never listed)."""
    if not is_remote(path):
        try:
            return os.path.getsize(path)
        except OSError:
            return 0
    with _sizes_lock:
        return _sizes.get(path, 0)


# ---- reading and writing -----------------------------------------------------------------


def read_bytes(path: str, conf: Mapping[str, str] | None = None) -> bytes:
    kind = scheme(path)
    if kind == "file":
        with open(local(path), "rb") as f:
            return f.read()
    if kind == blockfs.SCHEME:
        store, key = blockfs.store_of(path, conf)
        try:
            return store.get(key)
        except BlockNotFound as e:
            raise FileNotFoundError(path) from e
    s3 = s3files.filesystem(conf)
    with s3.open_input_stream(s3files.strip(path)) as f:
        return f.read()


def write_bytes(path: str, data: bytes, conf: Mapping[str, str] | None = None) -> None:
    """Atomic for every kind: S3 and the stores put whole objects; locally via a rename."""
    kind = scheme(path)
    if kind == "file":
        p = local(path)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        tmp = f"{p}.tmp-{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, p)
    elif kind == blockfs.SCHEME:
        store, key = blockfs.store_of(path, conf)
        store.put(key, data)
    else:
        s3 = s3files.filesystem(conf)
        with s3.open_output_stream(s3files.strip(path)) as f:
            f.write(data)


def upload(local_file: str, path: str, conf: Mapping[str, str] | None = None) -> None:
    """A local file to a remote path, streamed (multipart on S3)."""
    kind = scheme(path)
    if kind == blockfs.SCHEME:
        store, key = blockfs.store_of(path, conf)

        def chunks():  # noqa: ANN202
            with open(local_file, "rb") as f:
                while chunk := f.read(8 << 20):
                    yield chunk

        store.put_stream(key, chunks())
        return
    s3 = s3files.filesystem(conf)  # an output stream: no directory marker objects
    with open(local_file, "rb") as src, s3.open_output_stream(s3files.strip(path)) as dst:
        while chunk := src.read(8 << 20):
            dst.write(chunk)


def copy(pairs: list[tuple[str, str]], conf: Mapping[str, str] | None = None) -> None:
    """Server-side copies (S3 CopyObject), a few at a time."""
    s3 = s3files.filesystem(conf)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda p: s3.copy_file(s3files.strip(p[0]), s3files.strip(p[1])), pairs))


def delete(paths: list[str], conf: Mapping[str, str] | None = None) -> None:
    """Delete these files (remote ones in parallel; missing ones are ignored)."""
    if not paths:
        return
    if not is_remote(paths[0]):
        for p in paths:
            try:
                os.remove(local(p))
            except FileNotFoundError:
                pass
        return
    if scheme(paths[0]) == blockfs.SCHEME:
        for p in paths:
            store, key = blockfs.store_of(p, conf)
            store.delete_prefix(key)
        return
    s3 = s3files.filesystem(conf)

    def one(p: str) -> None:
        try:
            s3.delete_file(s3files.strip(p))
        except FileNotFoundError:
            pass

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, paths))


def delete_tree(path: str, conf: Mapping[str, str] | None = None) -> None:
    """Everything at or under ``path``."""
    if not is_remote(path):
        import shutil

        p = local(path)
        if os.path.isdir(p):
            shutil.rmtree(p, ignore_errors=True)
        elif os.path.exists(p):
            os.remove(p)
        return
    if scheme(path) == blockfs.SCHEME:
        store, key = blockfs.store_of(path, conf)
        store.delete_prefix(key.rstrip("/") + "/")
        store.delete_prefix(key)
        return
    s3 = s3files.filesystem(conf)
    target = s3files.strip(path)
    try:
        info = s3.get_file_info(target)
        from pyarrow import fs as pafs

        if info.type == pafs.FileType.File:
            s3.delete_file(target)
        elif info.type == pafs.FileType.Directory:
            s3.delete_dir(target)  # the objects and any directory markers under it
    except FileNotFoundError:  # no such bucket
        return


# ---- DuckDB --------------------------------------------------------------------------------

_registered: dict[int, tuple] = {}


def register(con, conf: Mapping[str, str] | None) -> None:  # noqa: ANN001 - DuckDB connection
    """Make ``s3://``, ``s3a://`` and ``sparkless://`` paths readable by ``con`` (again only
    when the S3 settings changed)."""
    fingerprint = tuple(sorted(s3files.options(conf).items()))
    if _registered.get(id(con)) == fingerprint and con.filesystem_is_registered(blockfs.SCHEME):
        return
    for name in ("S3Files", "StoreFiles", *s3files.SCHEMES, blockfs.SCHEME):
        try:
            if con.filesystem_is_registered(name):
                con.unregister_filesystem(name)
        except Exception:  # noqa: BLE001 - not registered under that name
            pass
    con.register_filesystem(s3files.fsspec_filesystem(conf))
    con.register_filesystem(blockfs.fsspec_filesystem(conf))
    _registered[id(con)] = fingerprint


def mentions_remote(sql: str) -> bool:
    """SQL that names a remote file (the reader needs ``register`` first)."""
    return any(f"'{s}://" in sql for s in REMOTE)
