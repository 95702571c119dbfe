"""The Spark Connect gRPC server: sessions, reattachable executions, errors as Spark's.

What the stock PySpark 4 client expects is summarised in shared/SPARK_CONNECT_NOTES.md:
every response echoes the session ids; ExecutePlan streams are reattachable (each
response has an id, is kept until released, the stream ends with result_complete);
errors carry ErrorInfo whose metadata names the JVM exception classes.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import traceback
import uuid
from collections.abc import Iterator
from concurrent import futures

import grpc
import pyarrow as pa
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from pyspark.sql.connect.proto import base_pb2 as pb
from pyspark.sql.connect.proto import base_pb2_grpc

from sparkless.connect.execution import ExecutionHolder, ExecutionRegistry
from sparkless.connect.planner import ConnectPlanner
from sparkless.connect.session import Session
from sparkless.engine import Engine
from sparkless.errors import SparkError
from sparkless.scheduler.listener import ListenerBus

log = logging.getLogger("sparkless.connect")

SPARK_VERSION = "4.0.0"


class _AuthInterceptor(grpc.ServerInterceptor):
    """Bearer-token check as Spark Connect's: a missing or wrong token is UNAUTHENTICATED."""

    def __init__(self, token: str) -> None:
        self.expected = f"Bearer {token}"

        def deny(request, context):  # noqa: ANN001
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "Invalid authentication token")

        self._deny_unary = grpc.unary_unary_rpc_method_handler(deny)
        self._deny_stream = grpc.unary_stream_rpc_method_handler(deny)
        self._deny_client_stream = grpc.stream_unary_rpc_method_handler(deny)

    def intercept_service(self, continuation, handler_call_details):  # noqa: ANN001
        metadata = dict(handler_call_details.invocation_metadata or ())
        if metadata.get("authorization") == self.expected:
            return continuation(handler_call_details)
        method = handler_call_details.method
        if method.endswith(("ExecutePlan", "ReattachExecute")):
            return self._deny_stream
        if method.endswith(("AddArtifacts",)):
            return self._deny_client_stream
        return self._deny_unary


def error_status(exc: BaseException, session: Session | None) -> status_pb2.Status:
    """A google.rpc.Status the PySpark client turns into the right exception class."""
    if not isinstance(exc, SparkError):
        exc = SparkError(f"{type(exc).__name__}: {exc}", "INTERNAL_ERROR", traceback="".join(traceback.format_exception(exc)))
    info = error_details_pb2.ErrorInfo(reason=exc.classes[0], domain="org.apache.spark")
    info.metadata["classes"] = json.dumps(list(exc.classes))
    if exc.error_class:
        info.metadata["errorClass"] = exc.error_class
        info.metadata["sqlState"] = exc.sql_state
        info.metadata["messageParameters"] = json.dumps(exc.parameters)
    info.metadata["message"] = str(exc)
    status = status_pb2.Status(code=grpc.StatusCode.INTERNAL.value[0], message=str(exc)[:4096])
    status.details.add().Pack(info)
    return status


class SparkConnectService(base_pb2_grpc.SparkConnectServiceServicer):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions: dict[tuple[str, str], Session] = {}
        self.executions = ExecutionRegistry()
        self._lock = threading.Lock()

    # ---- sessions ----------------------------------------------------------------

    def session(self, request, create: bool = True) -> Session:  # noqa: ANN001
        user = request.user_context.user_id if request.HasField("user_context") else ""
        key = (user, request.session_id)
        with self._lock:
            s = self.sessions.get(key)
            if s is None and create:
                s = Session(request.session_id, user, self.engine)
                self.sessions[key] = s
        if s is None:
            raise SparkError(
                f"Invalid handle: session {request.session_id} not found",
                "INVALID_HANDLE.SESSION_NOT_FOUND",
                sql_state="HY000",
            )
        return s

    def _abort(self, context: grpc.ServicerContext, exc: BaseException, session: Session | None) -> None:
        if not isinstance(exc, SparkError):
            log.exception("internal error")
        context.abort_with_status(rpc_status.to_status(error_status(exc, session)))

    # ---- RPCs --------------------------------------------------------------------

    def ExecutePlan(self, request: pb.ExecutePlanRequest, context: grpc.ServicerContext) -> Iterator:
        try:
            session = self.session(request)
            holder = self.executions.create(request, session)
            planner = ConnectPlanner(session)
            holder.start(lambda: planner.execute(request.plan, holder))
        except Exception as exc:  # noqa: BLE001
            self._abort(context, exc, None)
            return
        yield from self._stream(holder, None, context)

    def ReattachExecute(self, request: pb.ReattachExecuteRequest, context: grpc.ServicerContext) -> Iterator:
        holder = self.executions.get(request.operation_id)
        if holder is None:
            self._abort(
                context,
                SparkError(
                    f"Operation {request.operation_id} not found",
                    "INVALID_HANDLE.OPERATION_NOT_FOUND",
                    sql_state="HY000",
                ),
                None,
            )
            return
        last = request.last_response_id if request.HasField("last_response_id") else None
        yield from self._stream(holder, last, context)

    def _stream(self, holder: ExecutionHolder, last: str | None, context: grpc.ServicerContext) -> Iterator:
        try:
            yield from holder.stream(last, context.is_active)
        except Exception as exc:  # noqa: BLE001
            self.executions.remove(holder.operation_id)
            self._abort(context, exc, holder.session)

    def ReleaseExecute(self, request: pb.ReleaseExecuteRequest, context: grpc.ServicerContext):
        holder = self.executions.get(request.operation_id)
        if holder is not None:
            if request.HasField("release_all"):
                holder.interrupt()
                self.executions.remove(request.operation_id)
            elif request.HasField("release_until"):
                holder.release_until(request.release_until.response_id)
        s = self._session_if_any(request)
        return pb.ReleaseExecuteResponse(
            session_id=request.session_id,
            server_side_session_id=s.server_side_session_id if s else "",
            operation_id=request.operation_id,
        )

    def _session_if_any(self, request) -> Session | None:  # noqa: ANN001
        user = request.user_context.user_id if request.HasField("user_context") else ""
        return self.sessions.get((user, request.session_id))

    def Interrupt(self, request: pb.InterruptRequest, context: grpc.ServicerContext):
        session = self.session(request)
        ids = []
        for holder in self.executions.for_session(session):
            kind = request.interrupt_type
            if (
                kind == pb.InterruptRequest.INTERRUPT_TYPE_ALL
                or (kind == pb.InterruptRequest.INTERRUPT_TYPE_OPERATION_ID and holder.operation_id == request.operation_id)
                or (kind == pb.InterruptRequest.INTERRUPT_TYPE_TAG and request.operation_tag in holder.tags)
            ):
                holder.interrupt()
                ids.append(holder.operation_id)
        return pb.InterruptResponse(
            session_id=request.session_id,
            server_side_session_id=session.server_side_session_id,
            interrupted_ids=ids,
        )

    def ReleaseSession(self, request: pb.ReleaseSessionRequest, context: grpc.ServicerContext):
        user = request.user_context.user_id if request.HasField("user_context") else ""
        with self._lock:
            s = self.sessions.pop((user, request.session_id), None)
        if s is not None:
            for holder in self.executions.for_session(s):
                holder.interrupt()
                self.executions.remove(holder.operation_id)
            s.close()
        return pb.ReleaseSessionResponse(
            session_id=request.session_id,
            server_side_session_id=s.server_side_session_id if s else "",
        )

    def AnalyzePlan(self, request: pb.AnalyzePlanRequest, context: grpc.ServicerContext):
        session = None
        try:
            session = self.session(request)
            with session.lock:
                return ConnectPlanner(session).analyze(request)
        except Exception as exc:  # noqa: BLE001
            self._abort(context, exc, session)

    def Config(self, request: pb.ConfigRequest, context: grpc.ServicerContext):
        session = None
        try:
            session = self.session(request)
            return config(session, request)
        except Exception as exc:  # noqa: BLE001
            self._abort(context, exc, session)

    def FetchErrorDetails(self, request: pb.FetchErrorDetailsRequest, context: grpc.ServicerContext):
        session = self._session_if_any(request)
        return pb.FetchErrorDetailsResponse(
            session_id=request.session_id,
            server_side_session_id=session.server_side_session_id if session else "",
        )

    def AddArtifacts(self, request_iterator, context: grpc.ServicerContext):  # noqa: ANN001
        session_id = ""
        summaries = []
        for req in request_iterator:
            session_id = req.session_id
            if req.HasField("batch"):
                for a in req.batch.artifacts:
                    summaries.append(pb.AddArtifactsResponse.ArtifactSummary(name=a.name, is_crc_successful=True))
        return pb.AddArtifactsResponse(session_id=session_id, artifacts=summaries)

    def ArtifactStatus(self, request: pb.ArtifactStatusesRequest, context: grpc.ServicerContext):
        session = self.session(request)
        return pb.ArtifactStatusesResponse(
            session_id=request.session_id,
            server_side_session_id=session.server_side_session_id,
            statuses={n: pb.ArtifactStatusesResponse.ArtifactStatus(exists=False) for n in request.names},
        )


def config(session: Session, request: pb.ConfigRequest) -> pb.ConfigResponse:
    op = request.operation
    kind = op.WhichOneof("op_type")
    resp = pb.ConfigResponse(session_id=request.session_id, server_side_session_id=session.server_side_session_id)
    conf = session.conf
    if kind == "set":
        for kv in op.set.pairs:
            if not conf.is_modifiable(kv.key) and kv.key.startswith("spark.sparkless."):
                resp.warnings.append(f"{kv.key} is fixed at server start; the new value is ignored.")
                continue
            conf.set(kv.key, kv.value)
    elif kind == "get":
        for key in op.get.keys:
            value = conf.get(key)
            if value is None:
                raise SparkError(
                    f"The SQL config \"{key}\" cannot be found. Please verify that the config exists.",
                    "SQL_CONF_NOT_FOUND",
                    sql_state="42K0I",
                    jvm_class="java.util.NoSuchElementException",
                )
            resp.pairs.add(key=key, value=value)
    elif kind == "get_with_default":
        for kv in op.get_with_default.pairs:
            value = conf.get(kv.key) if conf.is_set(kv.key) or conf.get(kv.key) is not None else None
            p = resp.pairs.add(key=kv.key)
            if value is not None:
                p.value = value
            elif kv.HasField("value"):
                p.value = kv.value
    elif kind == "get_option":
        for key in op.get_option.keys:
            value = conf.get(key)
            p = resp.pairs.add(key=key)
            if value is not None:
                p.value = value
    elif kind == "get_all":
        prefix = op.get_all.prefix if op.get_all.HasField("prefix") else ""
        for k, v in conf.items(prefix):
            resp.pairs.add(key=k, value=v)
    elif kind == "unset":
        for key in op.unset.keys:
            conf.unset(key)
    elif kind == "is_modifiable":
        for key in op.is_modifiable.keys:
            resp.pairs.add(key=key, value="true" if conf.is_modifiable(key) else "false")
    return resp


def is_loopback(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# The stock client pings every 60 s, with or without calls in flight (SPARK-58094).
# gRPC core's server default (pings no closer than 5 min, none without calls) counts
# those as abuse and closes the connection with GOAWAY "too_many_pings" after two,
# which breaks a long query whose stream sends nothing for minutes. Accept pings down to
# one a second (an HTTP/2 PING costs nothing), calls or not.
KEEPALIVE_POLICY = [
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 1000),
]


class SparkConnectServer:
    """The embeddable server: ``start()`` returns the bound port."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 15002,
        token: str | None = None,
        conf: dict[str, str] | None = None,
        store: str | None = None,
        max_workers: int = 32,
    ) -> None:
        if not is_loopback(host) and not token:
            raise ValueError(
                f"Refusing to listen on non-loopback address {host!r} without an authentication "
                "token: pass --token or set SPARKLESS_AUTH_TOKEN."
            )
        self.host, self.port, self.token = host, port, token
        self.engine = Engine(conf, store)
        self.listeners: ListenerBus = self.engine.bus
        interceptors = [_AuthInterceptor(token)] if token else []
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="sparkless-rpc"),
            interceptors=interceptors,
            options=[
                ("grpc.max_receive_message_length", 512 * 1024 * 1024),
                ("grpc.max_send_message_length", 512 * 1024 * 1024),
                *KEEPALIVE_POLICY,
            ],
        )
        self.service = SparkConnectService(self.engine)
        base_pb2_grpc.add_SparkConnectServiceServicer_to_server(self.service, self._server)

    def start(self) -> int:
        address = f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
        if self.token:
            # The client uses local channel credentials for `localhost` with a token, TLS otherwise.
            creds = grpc.local_server_credentials(grpc.LocalConnectionType.LOCAL_TCP)
            self.port = self._server.add_secure_port(address, creds)
        else:
            self.port = self._server.add_insecure_port(address)
        self._server.start()
        threading.Thread(target=self.engine.prewarm, name="sparkless-prewarm", daemon=True).start()
        return self.port

    def wait(self) -> None:
        self._server.wait_for_termination()

    def stop(self, grace: float | None = None) -> None:
        self._server.stop(grace).wait()
        self.engine.close()


__all__ = ["SparkConnectServer", "SPARK_VERSION", "pa", "uuid"]
