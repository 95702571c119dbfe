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

Measured (``benchmarks/crail_store_probe.py``, this 2-core machine, loopback, 3 storage
servers and the metadata server in one process, the client in another), two runs at
commit time; this VM is noisy (other jobs share its 2 cores), so medians vary by up to
~2x from run to run::

    single stream, 50 MB blocks, median MB/s (best)      run 1        run 2
    raw socket: send + 1-byte ack                       165 (223)    205 (384)
    raw socket: recv_into a fresh buffer                165 (259)    225 (286)
    raw socket: recv_into a reused buffer               719 (871)    533 (782)
    crail put (ALLOCATE + PUT + COMMIT)                 208 (379)    209 (353)
    crail get (LOOKUP cached + GET)                     223 (398)    209 (317)

    64 x 64 shuffle, 4096 slices of 16 KB (64 MB), all 64 reducers' reads
    pipelined get_ranges (64 slices per call)           0.245 s      0.244 s   (~16.7 k slices/s)
    sequential get_range (one slice per call)           1.699 s      0.577 s   (2.4-7.1 k slices/s)

So the store moves a large block as fast as a plain socket that also receives into a new
buffer (the storage server and the client both do: a DRAM block and a returned value
are freshly allocated). What separates both from the reused-buffer line is first-touch
page faults of fresh memory in this VM (allocating 50 MB costs ~70 ms here); a
pre-registered DRAM arena, as Crail has, would close part of that gap on the server
side. Pipelining makes small-slice reads 2.4-7x faster than one request at a time.
"""

from storage.crail.config import CrailConfig, parse_uri
from storage.crail.metadata import MetadataServer
from storage.crail.storage_server import StorageServer
from storage.crail.store import CrailStore

__all__ = ["CrailConfig", "CrailStore", "MetadataServer", "StorageServer", "parse_uri"]
