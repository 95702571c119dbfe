"""Reattachable executions: responses are kept, by id, until the client releases them.

The execution runs on its own thread and appends responses; any number of
ExecutePlan/ReattachExecute streams read them from a position. The producer stays
at most a few responses ahead of what was streamed, so a large result never piles
up in the driver.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from pyspark.sql.connect.proto import base_pb2 as pb

if TYPE_CHECKING:
    from sparkless.connect.session import Session

AHEAD = 8  # responses the producer may run ahead of the reader


class Interrupted(Exception):
    pass


class ExecutionHolder:
    def __init__(self, request: pb.ExecutePlanRequest, session: Session) -> None:
        self.operation_id = request.operation_id or str(uuid.uuid4())
        self.session = session
        self.tags = set(request.tags)
        self._responses: list[pb.ExecutePlanResponse | None] = []
        self._ids: dict[str, int] = {}
        self._done = False
        self._error: BaseException | None = None
        self._streamed = 0
        self._interrupted = False
        self._cond = threading.Condition()

    # ---- producer ----------------------------------------------------------------

    def start(self, body: Callable[[], None]) -> None:
        def run() -> None:
            try:
                body()
                self.emit(pb.ExecutePlanResponse(result_complete=pb.ExecutePlanResponse.ResultComplete()))
            except BaseException as exc:  # noqa: BLE001 - delivered to the client stream
                with self._cond:
                    self._error = exc
            finally:
                with self._cond:
                    self._done = True
                    self._cond.notify_all()

        threading.Thread(target=run, name=f"exec-{self.operation_id[:8]}", daemon=True).start()

    def emit(self, response: pb.ExecutePlanResponse) -> None:
        response.session_id = self.session.session_id
        response.server_side_session_id = self.session.server_side_session_id
        response.operation_id = self.operation_id
        response.response_id = str(uuid.uuid4())
        with self._cond:
            while len(self._responses) - self._streamed >= AHEAD and not self._interrupted:
                self._cond.wait(timeout=1.0)
            if self._interrupted:
                raise Interrupted()
            self._ids[response.response_id] = len(self._responses)
            self._responses.append(response)
            self._cond.notify_all()

    @property
    def interrupted(self) -> bool:
        return self._interrupted

    def interrupt(self) -> None:
        with self._cond:
            self._interrupted = True
            self._cond.notify_all()

    # ---- consumers ---------------------------------------------------------------

    def stream(self, after: str | None, is_active: Callable[[], bool]) -> Iterator[pb.ExecutePlanResponse]:
        with self._cond:
            pos = self._ids[after] + 1 if after is not None and after in self._ids else 0
        while True:
            with self._cond:
                while pos >= len(self._responses) and not self._done:
                    self._cond.wait(timeout=1.0)
                    if not is_active():
                        return
                if pos < len(self._responses):
                    item = self._responses[pos]
                    self._streamed = max(self._streamed, pos + 1)
                    self._cond.notify_all()
                elif self._error is not None:
                    raise self._error
                else:
                    return
            if item is not None:
                yield item
            pos += 1

    def release_until(self, response_id: str) -> None:
        with self._cond:
            idx = self._ids.get(response_id)
            if idx is None:
                return
            for i in range(idx + 1):
                self._responses[i] = None  # the client has it; free the bytes


class ExecutionRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, ExecutionHolder] = {}

    def create(self, request: pb.ExecutePlanRequest, session: Session) -> ExecutionHolder:
        holder = ExecutionHolder(request, session)
        with self._lock:
            if holder.operation_id in self._by_id:
                from sparkless.errors import SparkError

                raise SparkError(
                    f"Operation {holder.operation_id} already exists.",
                    "INVALID_HANDLE.OPERATION_ALREADY_EXISTS",
                    sql_state="HY000",
                )
            self._by_id[holder.operation_id] = holder
        return holder

    def get(self, operation_id: str) -> ExecutionHolder | None:
        with self._lock:
            return self._by_id.get(operation_id)

    def remove(self, operation_id: str) -> None:
        with self._lock:
            self._by_id.pop(operation_id, None)

    def for_session(self, session: Session) -> list[ExecutionHolder]:
        with self._lock:
            return [h for h in self._by_id.values() if h.session is session]
