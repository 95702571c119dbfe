"""The memory store: ``crail://host:port``, a disaggregated, Crail-like store of our own.

Shape (like Apache Crail): one **metadata server** (the URI's address) knows the storage
servers and where each block lives; N **storage servers** hold the bytes, each in a DRAM
tier of fixed size that spills to a local-disk tier when full. A client asks the metadata
server where a block is (cached), then reads and writes the storage servers directly.
Run it with ``sparkless store serve`` (``storage.crail.serve``); see ``protocol`` for the
wire format and ``store`` for the client's data path.

Transport: **TCP is what runs here.** Every byte goes over ``TcpTransport``: length-
prefixed binary frames, 4 MB socket buffers, ``sendall`` of memoryviews, ``recv_into``
pre-allocated buffers, ``sendfile`` from the disk tier, pipelined requests on pooled
connections. The transport is a four-call interface (``transport.Transport``), so an
RDMA transport (e.g. rsocket or pyverbs, with registered memory) can slot in where such
hardware exists; none is written here, because none could be tested here.

Failures: a storage server that stops heartbeating is removed after
``--heartbeat-timeout`` seconds and lookups of its blocks answer that the block was on
that server; before then, reads fail at once on the refused connection. Either way the
reader gets ``BlockNotFound`` naming the server, and the shuffle reader turns it into a
fetch failure, so the scheduler recomputes the lost map outputs. Every socket call is
bounded by the URI's ``timeout`` (default 10 s): nothing hangs.

Measured (``benchmarks/crail_store_probe.py``, this 2-core machine, loopback):

    MEASURED-FIGURES
"""

from storage.crail.config import CrailConfig, parse_uri
from storage.crail.metadata import MetadataServer
from storage.crail.storage_server import StorageServer
from storage.crail.store import CrailStore

__all__ = ["CrailConfig", "CrailStore", "MetadataServer", "StorageServer", "parse_uri"]
