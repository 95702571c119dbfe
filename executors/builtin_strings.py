"""Python built-ins for string functions whose Spark definitions are Java code DuckDB has no
counterpart for: soundex, sentences (java.text.BreakIterator), conv (Spark's NumberConverter),
format_number (java.text.DecimalFormat, HALF_EVEN)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal

from executors.builtins import SparkFunctionError, builtin

_SOUNDEX = {c: d for d, letters in {"1": "BFPV", "2": "CGJKQSXZ", "3": "DT", "4": "L",
                                      "5": "MN", "6": "R"}.items() for c in letters}


@builtin("soundex", ["VARCHAR"], "VARCHAR")
def soundex(s: str) -> str:
    """Spark's UTF8String.soundex: a string not starting with a letter is returned as is;
    H and W do not separate equal codes, vowels do."""
    if not s or not ("A" <= s[0].upper() <= "Z"):
        return s
    first = s[0].upper()
    out = [first]
    last = _SOUNDEX.get(first, "0")
    for ch in s[1:].upper():
        if not ("A" <= ch <= "Z"):
            continue
        code = _SOUNDEX.get(ch, "0")
        if ch in "HW":
            continue
        if code != "0" and code != last:
            out.append(code)
            if len(out) == 4:
                break
        last = code
    return "".join(out).ljust(4, "0")


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[\w']+(?:[-'][\w]+)*", re.UNICODE)


@builtin("sentences", ["VARCHAR", "VARCHAR", "VARCHAR"], "VARCHAR[][]")
def sentences(s: str, language: str, country: str) -> list[list[str]]:
    """Sentences, each a list of words, as BreakIterator splits plain text (punctuation
    dropped)."""
    out = []
    for sentence in _SENTENCE_END.split(s.strip()):
        words = _WORD.findall(sentence)
        if words:
            out.append(words)
    return out


_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@builtin("conv", ["VARCHAR", "INTEGER", "INTEGER"], "VARCHAR")
def conv(num: str, from_base: int, to_base: int) -> str | None:
    """Spark's NumberConverter: digits read up to the first invalid one as an unsigned
    64-bit value (a leading '-' negates in two's complement); a negative ``to_base`` prints
    signed."""
    if not (2 <= abs(from_base) <= 36 and 2 <= abs(to_base) <= 36):
        return None
    text = num.strip()
    negative = text.startswith("-")
    if negative:
        text = text[1:]
    value = 0
    for ch in text.upper():
        d = _DIGITS.find(ch)
        if d < 0 or d >= abs(from_base):
            break
        value = min(value * abs(from_base) + d, (1 << 64) - 1)
    if negative:
        value = (-value) & ((1 << 64) - 1)
    signed = to_base < 0 and value >= (1 << 63)
    if signed:
        value = (1 << 64) - value
    base = abs(to_base)
    digits = ""
    while True:
        digits = _DIGITS[value % base] + digits
        value //= base
        if value == 0:
            break
    return ("-" if signed else "") + digits


@builtin("format_number", ["VARCHAR", "INTEGER"], "VARCHAR")
def format_number(value: str, d: int) -> str | None:
    """``#,###,###.##`` with ``d`` decimals, HALF_EVEN; negative ``d`` is NULL."""
    if d < 0:
        return None
    if value.lower() in ("nan", "inf", "-inf", "infinity", "-infinity"):
        return {"nan": "NaN"}.get(value.lower(), "-∞" if value.startswith("-") else "∞")
    q = Decimal(value).quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_EVEN)
    return f"{q:,.{d}f}"


def _java_split(s: str, regex: str, limit: int) -> list[str]:
    """java.lang.String.split: at most ``limit`` parts when positive, every part otherwise
    (trailing empty strings kept, as Spark passes -1); a zero-width match at the start does
    not make a leading empty part."""
    if limit == 1:
        return [s]
    parts = re.split(regex, s, maxsplit=limit - 1 if limit > 1 else 0)
    if parts and parts[0] == "" and s and re.match(regex, s) and re.match(regex, s).end() == 0:
        parts = parts[1:]
    return parts


@builtin("split", ["VARCHAR", "VARCHAR", "INTEGER"], "VARCHAR[]")
def split(s: str, regex: str, limit: int) -> list[str]:
    return _java_split(s, regex, limit)


@builtin("str_to_map", ["VARCHAR", "VARCHAR", "VARCHAR"], "STRUCT(key VARCHAR, value VARCHAR)[]")
def str_to_map(s: str, pair_delim: str, kv_delim: str) -> list[dict[str, str | None]]:
    """Spark's StringToMap: pairs split on the pair regex, each on its first key/value regex
    match (no match: NULL value)."""
    out = []
    for pair in _java_split(s, pair_delim, -1):
        kv = _java_split(pair, kv_delim, 2)
        out.append({"key": kv[0], "value": kv[1] if len(kv) > 1 else None})
    return out


# --------------------------------------------------------------------------- number formats


def number_format(fmt: str) -> tuple[int, int]:
    """(precision, scale) of Spark's number format (``9``/``0`` digits, ``.``/``D`` point)."""
    f = fmt.upper()
    point = max(f.find("."), f.find("D"))
    digits = [i for i, ch in enumerate(f) if ch in "09"]
    scale = len([i for i in digits if point >= 0 and i > point])
    return max(len(digits), 1), scale


_NUMBER_TOKENS = re.compile(r"PR|MI|[09]+|[.,DGS$L]", re.IGNORECASE)


def _format_regex(fmt: str) -> re.Pattern[str] | None:
    parts, seen_point = [], False
    for tok in _NUMBER_TOKENS.findall(fmt):
        t = tok.upper()
        if t[0] in "09":
            parts.append(f"([0-9]{{0,{len(t)}}})" if not seen_point else f"([0-9]{{0,{len(t)}}})")
        elif t in (".", "D"):
            seen_point = True
            parts.append(r"(\.)?")
        elif t in (",", "G"):
            parts.append(",?")
        elif t in ("$", "L"):
            parts.append(r"\$")
        elif t in ("S", "MI"):
            parts.append("([+-])?")
        elif t == "PR":
            return None
    if "".join(_NUMBER_TOKENS.findall(fmt)).upper() != fmt.upper():
        return None
    return re.compile("".join(parts))


@builtin("to_number", ["VARCHAR", "VARCHAR", "BOOLEAN"], "VARCHAR")
def to_number(s: str, fmt: str, strict: bool) -> str | None:
    """Spark's ToNumberParser for the usual patterns: the digits, point and sign the format
    allows, ``$`` and group separators where it has them; a mismatch is an error (try: NULL)."""
    pattern = _format_regex(fmt)
    m = pattern.fullmatch(s.strip()) if pattern is not None else None
    if m is None:
        if strict:
            raise SparkFunctionError(
                f"[INVALID_FORMAT.MISMATCH_INPUT] The format is invalid: '{fmt}'. The input "
                f"'{s}' does not match the format."
            )
        return None
    text = m.group(0).replace("$", "").replace(",", "")
    negative = "-" in text
    digits = text.replace("-", "").replace("+", "")
    return ("-" if negative else "") + (digits if digits not in ("", ".") else "0")


@builtin("to_char_number", ["VARCHAR", "VARCHAR"], "VARCHAR")
def to_char_number(value: str, fmt: str) -> str:
    """Spark's to_char of a decimal: digits padded to the format (``0``: zeros, ``9``:
    spaces); ``#`` throughout when the value does not fit its digits."""
    from decimal import ROUND_HALF_UP

    precision, scale = number_format(fmt)
    exact = Decimal(value)
    d = exact.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
    if d != exact:  # Spark prints '#' rather than round away digits
        return "".join("#" if ch in "09" else ch for ch in fmt)
    whole, _, frac = f"{abs(d):f}".partition(".")
    f = fmt.upper()
    point = max(f.find("."), f.find("D"))
    int_fmt = [ch for ch in (f[:point] if point >= 0 else f) if ch in "09"]
    if whole == "0" and int_fmt:
        whole = "" if int_fmt[-1] == "9" and scale else "0"
    if len(whole) > len(int_fmt):
        return "".join("#" if ch in "09" else ch for ch in fmt)
    pad = "0" if int_fmt and int_fmt[0] == "0" else " "
    whole = whole.rjust(len(int_fmt), pad)
    out, wi = [], 0
    for ch in f[:point] if point >= 0 else f:
        if ch in "09":
            out.append(whole[wi])
            wi += 1
        elif ch in ",G":
            out.append("," if out and out[-1].strip() else " ")
        elif ch in "$L":
            out.append("$")
        elif ch == "S":
            out.append("-" if d < 0 else "+")
    if point >= 0:
        out.append(".")
        out.append(frac.ljust(scale, "0"))
    return "".join(out)  # without S/MI the sign is not printed, as in Spark
