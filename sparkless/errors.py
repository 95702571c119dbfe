"""Errors the client sees, as Spark names them.

Each carries the JVM class name(s) the PySpark client maps to its own exception
classes (``pyspark.errors.exceptions.connect``), an error class and a SQL state,
so ``except AnalysisException`` in an unchanged job works against sparkless.
"""

from __future__ import annotations

from typing import ClassVar


class SparkError(Exception):
    """An error reported to the client with Spark's vocabulary."""

    jvm_classes: ClassVar[tuple[str, ...]] = ("org.apache.spark.SparkException",)
    default_sql_state: ClassVar[str] = "XX000"

    def __init__(
        self,
        message: str,
        error_class: str | None = None,
        *,
        sql_state: str | None = None,
        parameters: dict[str, str] | None = None,
        jvm_class: str | None = None,
        traceback: str | None = None,
    ) -> None:
        self.error_class = error_class
        self.raw_message = message
        self.sql_state = sql_state or self.default_sql_state
        self.parameters = parameters or {}
        self.traceback = traceback
        self._jvm_class = jvm_class
        text = f"[{error_class}] {message}" if error_class else message
        if error_class and sql_state:
            text = f"{text} SQLSTATE: {sql_state}"
        super().__init__(text)

    @property
    def classes(self) -> tuple[str, ...]:
        """Most specific first, as the client expects in ErrorInfo metadata."""
        if self._jvm_class and self._jvm_class not in self.jvm_classes:
            return (self._jvm_class, *self.jvm_classes)
        return self.jvm_classes


class AnalysisException(SparkError):
    jvm_classes = ("org.apache.spark.sql.AnalysisException",)
    default_sql_state = "42000"


class ParseException(AnalysisException):
    jvm_classes = (
        "org.apache.spark.sql.catalyst.parser.ParseException",
        "org.apache.spark.sql.AnalysisException",
    )
    default_sql_state = "42601"


class SparkArithmeticException(SparkError):
    jvm_classes = ("org.apache.spark.SparkArithmeticException", "java.lang.ArithmeticException")
    default_sql_state = "22012"


class SparkNumberFormatException(SparkError):
    jvm_classes = (
        "org.apache.spark.SparkNumberFormatException",
        "java.lang.NumberFormatException",
        "java.lang.IllegalArgumentException",
    )
    default_sql_state = "22018"


class SparkRuntimeException(SparkError):
    jvm_classes = ("org.apache.spark.SparkRuntimeException", "java.lang.RuntimeException")


class IllegalArgumentException(SparkError):
    jvm_classes = ("java.lang.IllegalArgumentException",)
    default_sql_state = "22023"


class UnsupportedOperationException(SparkError):
    jvm_classes = (
        "org.apache.spark.SparkUnsupportedOperationException",
        "java.lang.UnsupportedOperationException",
    )
    default_sql_state = "0A000"


def unsupported(what: str) -> UnsupportedOperationException:
    """The one way to say 'sparkless does not do this yet' — never a silent wrong answer."""
    return UnsupportedOperationException(
        f"{what} is not supported by sparkless yet.", "UNSUPPORTED_FEATURE.SPARKLESS"
    )


_BY_JVM_CLASS: dict[str, type[SparkError]] = {
    "org.apache.spark.SparkArithmeticException": SparkArithmeticException,
    "org.apache.spark.SparkNumberFormatException": SparkNumberFormatException,
    "org.apache.spark.SparkRuntimeException": SparkRuntimeException,
    "org.apache.spark.sql.AnalysisException": AnalysisException,
}


def from_task_error(error: dict) -> SparkError:
    """The driver-side exception for a task's TaskError dict (see executors/events.py)."""
    cls = _BY_JVM_CLASS.get(error.get("exception", ""), SparkError)
    message = error.get("message", "task failed")
    error_class = error.get("error_class")
    if error_class and message.startswith(f"[{error_class}]"):
        message = message[len(error_class) + 2 :].lstrip()
    return cls(
        message,
        error_class,
        sql_state=error.get("sql_state"),
        jvm_class=error.get("exception"),
        traceback=error.get("traceback"),
    )
