"""Python built-ins for Spark's AES functions and HMAC (``cryptography``; stdlib ``hmac``).

Spark's ``aes_encrypt``: GCM (12-byte IV, 16-byte tag, optional AAD) or CBC (16-byte IV),
both with an IV prefixed to the output and random unless given; ECB without IV; PKCS#7
padding for ECB/CBC. ``aes_decrypt`` reads the same layout.
"""

from __future__ import annotations

import hashlib
import hmac as _hmac
import os

from executors.builtins import SparkFunctionError, builtin

_MODES = {("ECB", "PKCS"), ("ECB", "DEFAULT"), ("CBC", "PKCS"), ("CBC", "DEFAULT"),
          ("GCM", "NONE"), ("GCM", "DEFAULT")}


def _check(key: bytes, mode: str, padding: str, fn: str) -> tuple[str, str]:
    mode, padding = mode.upper(), padding.upper()
    if len(key) not in (16, 24, 32):
        raise SparkFunctionError(
            "[INVALID_PARAMETER_VALUE.AES_KEY_LENGTH] The value of parameter(s) `key` in "
            f"`{fn}` is invalid: expects a binary value with 16, 24 or 32 bytes, but got "
            f"{len(key)} bytes."
        )
    if (mode, padding) not in _MODES:
        raise SparkFunctionError(
            f"[UNSUPPORTED_FEATURE.AES_MODE] The feature is not supported: AES-{mode} with the "
            f"padding {padding} by the `{fn}` function."
        )
    return mode, padding


def _pad(data: bytes) -> bytes:
    n = 16 - len(data) % 16
    return data + bytes([n]) * n


def _unpad(data: bytes) -> bytes:
    n = data[-1] if data else 0
    if not 1 <= n <= 16 or data[-n:] != bytes([n]) * n:
        raise ValueError("bad padding")
    return data[:-n]


@builtin("aes_encrypt", ["BLOB", "BLOB", "VARCHAR", "VARCHAR", "BLOB", "BLOB"], "BLOB",
         side_effects=True)
def aes_encrypt(data: bytes, key: bytes, mode: str, padding: str, iv: bytes, aad: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    mode, padding = _check(key, mode, padding, "aes_encrypt")
    if mode == "GCM":
        iv = iv or os.urandom(12)
        if len(iv) != 12:
            raise _iv_error("GCM", 12, len(iv))
        return iv + AESGCM(key).encrypt(iv, data, aad or None)
    if aad:
        raise SparkFunctionError(
            "[UNSUPPORTED_FEATURE.AES_MODE_AAD] The feature is not supported: aes_encrypt with "
            f"AES-{mode} does not support additional authenticate data (AAD)."
        )
    if mode == "CBC":
        iv = iv or os.urandom(16)
        if len(iv) != 16:
            raise _iv_error("CBC", 16, len(iv))
        enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        return iv + enc.update(_pad(data)) + enc.finalize()
    if iv:
        raise SparkFunctionError(
            "[UNSUPPORTED_FEATURE.AES_MODE_IV] The feature is not supported: aes_encrypt with "
            f"AES-{mode} does not support initialization vectors (IVs)."
        )
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(_pad(data)) + enc.finalize()


def _iv_error(mode: str, want: int, got: int) -> SparkFunctionError:
    return SparkFunctionError(
        "[INVALID_PARAMETER_VALUE.AES_IV_LENGTH] The value of parameter(s) `iv` in "
        "`aes_encrypt` is invalid: supports 16-byte CBC IVs and 12-byte GCM IVs, but got "
        f"{got} bytes for {mode}."
    )


def _decrypt(data: bytes, key: bytes, mode: str, padding: str, aad: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if mode == "GCM":
        return AESGCM(key).decrypt(data[:12], data[12:], aad or None)
    if mode == "CBC":
        dec = Cipher(algorithms.AES(key), modes.CBC(data[:16])).decryptor()
        return _unpad(dec.update(data[16:]) + dec.finalize())
    dec = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    return _unpad(dec.update(data) + dec.finalize())


@builtin("aes_decrypt", ["BLOB", "BLOB", "VARCHAR", "VARCHAR", "BLOB", "BOOLEAN"], "BLOB")
def aes_decrypt(data: bytes, key: bytes, mode: str, padding: str, aad: bytes,
                strict: bool) -> bytes | None:
    fn = "aes_decrypt" if strict else "try_aes_decrypt"
    try:
        mode, padding = _check(key, mode, padding, fn)
        return _decrypt(data, key, mode, padding, aad)
    except SparkFunctionError:
        if strict:
            raise
        return None
    except Exception as e:  # noqa: BLE001 - any cipher failure is Spark's AES_CRYPTO_ERROR
        if not strict:
            return None
        raise SparkFunctionError(
            "[INVALID_PARAMETER_VALUE.AES_CRYPTO_ERROR] The value of parameter(s) `expr`, `key` "
            f"in `aes_decrypt` is invalid: detail message: {type(e).__name__}: {e}"
        ) from None


_HMAC = {"SHA-256": "sha256", "SHA-1": "sha1", "SHA-224": "sha224", "SHA-384": "sha384",
         "SHA-512": "sha512", "MD5": "md5", "SHA256": "sha256", "SHA1": "sha1",
         "SHA384": "sha384", "SHA512": "sha512", "SHA224": "sha224"}


@builtin("hmac", ["BLOB", "BLOB", "VARCHAR"], "BLOB")
def hmac(key: bytes, message: bytes, algorithm: str) -> bytes:
    name = _HMAC.get(algorithm.upper())
    if name is None:
        raise SparkFunctionError(
            "[INVALID_PARAMETER_VALUE.HMAC_ALGORITHM] The value of parameter(s) `algorithm` in "
            "`hmac` is invalid: expects one of the algorithms 'SHA-224', 'SHA-256', 'SHA-384', "
            f"'SHA-512', 'SHA-1', 'MD5', but got {algorithm}."
        )
    return _hmac.new(key, message, getattr(hashlib, name)).digest()
