"""AES encryption, HMAC and ``to_binary``: Python built-ins (``executors.builtin_crypto``)
where DuckDB has no cipher, SQL for the rest. Strings are their UTF-8 bytes, as Spark
casts them to binary."""

from __future__ import annotations

from sqlglot import exp

from executors.builtins import call
from sparkless.errors import AnalysisException
from sparkless.plan.catalog import Call, register, template
from sparkless.plan.functions_formats import bytes_arg, text


def _opt_text(c: Call, i: int, default: str) -> exp.Expression:
    return text(c, i) if i < len(c.args) else exp.Literal.string(default)


def _opt_bytes(c: Call, i: int) -> exp.Expression:
    return bytes_arg(c, i) if i < len(c.args) else template("''::BLOB")


@register("aes_encrypt")
def _aes_encrypt(c: Call) -> exp.Expression:
    return template(
        f"{call('aes_encrypt')}({{d}}, {{k}}, {{m}}, {{p}}, {{iv}}, {{aad}})",
        d=bytes_arg(c, 0), k=bytes_arg(c, 1), m=_opt_text(c, 2, "GCM"),
        p=_opt_text(c, 3, "DEFAULT"), iv=_opt_bytes(c, 4), aad=_opt_bytes(c, 5),
    )


def _aes_decrypt(c: Call, strict: bool) -> exp.Expression:
    return template(
        f"{call('aes_decrypt')}({{d}}, {{k}}, {{m}}, {{p}}, {{aad}}, {'true' if strict else 'false'})",
        nullable=True,
        d=bytes_arg(c, 0), k=bytes_arg(c, 1), m=_opt_text(c, 2, "GCM"),
        p=_opt_text(c, 3, "DEFAULT"), aad=_opt_bytes(c, 4),
    )


@register("aes_decrypt")
def _aes_decrypt_strict(c: Call) -> exp.Expression:
    return _aes_decrypt(c, True)


@register("try_aes_decrypt")
def _try_aes_decrypt(c: Call) -> exp.Expression:
    return _aes_decrypt(c, False)


@register("hmac")
def _hmac(c: Call) -> exp.Expression:
    return template(
        f"{call('hmac')}({{k}}, {{m}}, {{a}})",
        k=bytes_arg(c, 0), m=bytes_arg(c, 1), a=_opt_text(c, 2, "SHA-256"),
    )


def _to_binary(c: Call, strict: bool) -> exp.Expression:
    fmt = c.literal_value(1) if len(c.args) > 1 else "hex"
    if not isinstance(fmt, str) or fmt.lower() not in ("hex", "utf-8", "utf8", "base64"):
        raise AnalysisException(
            f"[INVALID_PARAMETER_VALUE.BINARY_FORMAT] The value of parameter(s) `format` in "
            f"`{c.name}` is invalid: expects one of binary formats 'base64', 'hex', 'utf-8', "
            f"but got '{fmt}'.",
            "INVALID_PARAMETER_VALUE.BINARY_FORMAT",
            sql_state="22023",
        )
    fmt = fmt.lower()
    s = text(c, 0)
    if fmt in ("utf-8", "utf8"):
        return template("encode({s})", s=s)
    # Spark reads an odd-length hex string as if it had a leading 0.
    conv = ("unhex(CASE WHEN length({s}) % 2 = 1 THEN '0' || {s} ELSE {s} END)"
            if fmt == "hex" else "from_base64({s})")
    checked = (
        f"CASE WHEN {{s}} IS NULL THEN NULL WHEN regexp_full_match({{s}}, "
        f"'{'[0-9A-Fa-f]*' if fmt == 'hex' else '[A-Za-z0-9+/= ]*'}') THEN try({conv}) END"
    )
    if not strict:
        return template(f"CAST(({checked}) AS BLOB)", nullable=True, s=s)
    if fmt == "base64":  # Spark's UnBase64: NULL only for NULL input
        return template(f"CAST(CASE WHEN ({checked}) IS NULL AND {{s}} IS NOT NULL THEN "
                        "from_base64({s}) ELSE (" + checked + ") END AS BLOB)", s=s)
    bad = (
        f"error('[CONVERSION_INVALID_INPUT] The value ''' || {{s}} || ''' ({fmt.upper()}) cannot "
        "be converted to BINARY because it is malformed. Correct the value as per the syntax, or "
        "change its format. Use `try_to_binary` to tolerate malformed input and return NULL "
        "instead.')"
    )
    return template(
        f"CAST(CASE WHEN {{s}} IS NULL THEN NULL WHEN ({checked}) IS NULL THEN {bad} "
        f"ELSE ({checked}) END AS BLOB)",
        nullable=True,
        s=s,
    )


@register("to_binary")
def _to_binary_strict(c: Call) -> exp.Expression:
    return _to_binary(c, True)


@register("try_to_binary")
def _try_to_binary(c: Call) -> exp.Expression:
    return _to_binary(c, False)
