"""Format, variant, crypto and string built-ins against Apache Spark: XPath, CSV, XML, URLs,
base32, AES/HMAC, to_binary, variants, and the string functions written as Python built-ins
(``executors/builtin_*.py``). Names, types, nullability and values, as the oracle has them.
"""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

ROWS = [
    (
        1,
        "<a><b>1</b><b>2</b><c x='7'>cc</c></a>",
        "1,2,3",
        "https://user@spark.apache.org:8080/path/x?query=1&k=v#frag",
        '{"a": 1, "arr": [1, 2, 3], "o": {"p": "q"}, "s": "t"}',
        "Peters",
        "010101",
    ),
    (
        2,
        "<a><b>x</b></a>",
        '"q,1",, 7',
        "https://spark.apache.org",
        "[1, 2.5, null]",
        "Uhrbach",
        "-10",
    ),
    (3, None, None, None, None, None, None),
]
SCHEMA = "i int, x string, csv string, url string, js string, name string, num string"


def _b(c):
    """A binary column from a string (Spark's Encode: null only for null input)."""
    return F.to_binary(c, F.lit("utf-8"))


def _frame(s):
    return s.createDataFrame(ROWS, SCHEMA)


CASES = [
    # XPath 1.0 from the document node
    ("xpath_list", lambda: F.xpath("x", F.lit("a/b/text()"))),
    ("xpath_attr", lambda: F.xpath("x", F.lit("//c/@x"))),
    ("xpath_numbers", lambda: [F.xpath_int("x", F.lit("sum(a/b)")),
                               F.xpath_long("x", F.lit("sum(a/b)")),
                               F.xpath_short("x", F.lit("count(a/b)")),
                               F.xpath_double("x", F.lit("sum(a/b)")),
                               F.xpath_float("x", F.lit("sum(a/b)")),
                               F.xpath_number("x", F.lit("count(a/*)"))]),
    ("xpath_bool_string", lambda: [F.xpath_boolean("x", F.lit("a/c")),
                                   F.xpath_string("x", F.lit("a/c"))]),
    # CSV
    ("from_csv", lambda: F.from_csv("csv", "a INT, b STRING, c INT")),
    ("from_csv_options", lambda: F.from_csv("csv", "a STRING, b STRING",
                                            {"sep": ",", "ignoreLeadingWhiteSpace": "true"})),
    ("to_csv", lambda: F.to_csv(F.struct("i", "name", F.lit(True).alias("t")))),
    ("schema_of_csv", lambda: F.schema_of_csv(F.lit("1|a|true|2.5"), {"sep": "|"})),
    # URLs
    ("parse_url_parts", lambda: [F.parse_url("url", F.lit(p)) for p in (
        "HOST", "PATH", "QUERY", "REF", "PROTOCOL", "FILE", "AUTHORITY", "USERINFO")]),
    ("parse_url_key", lambda: F.parse_url("url", F.lit("QUERY"), F.lit("k"))),
    ("try_parse_url_bad", lambda: F.try_parse_url(F.lit("inva lid://x"), F.lit("HOST"))),
    ("try_url_decode", lambda: [F.try_url_decode(F.lit("a%20b+c")),
                                F.try_url_decode(F.lit("bad%2"))]),
    # base32, to_binary, hmac
    ("base32", lambda: [F.to_base32("name"), F.from_base32(F.to_base32("name"))]),
    ("to_binary", lambda: [F.to_binary(F.lit("414243")), F.to_binary("name", F.lit("utf-8")),
                           F.try_to_binary(F.lit("zz"), F.lit("hex")),
                           F.to_binary(F.lit("QUJD"), F.lit("base64"))]),
    ("hmac", lambda: [F.hmac("name", "num"), F.hmac("name", "num", F.lit("SHA-512"))]),
    # AES: fixed IVs give fixed bytes; random IVs round-trip
    ("aes_gcm_iv", lambda: F.base64(F.aes_encrypt(
        "name", F.lit("abcdefghijklmnop12345678ABCDEFGH"), F.lit("GCM"), F.lit("DEFAULT"),
        F.unhex(F.lit("000000000000000000000000")), F.lit("aad")))),
    ("aes_round_trip", lambda: [F.aes_decrypt(F.aes_encrypt("name", F.lit(k), F.lit(m)),
                                              F.lit(k), F.lit(m)).cast("string")
                                for k, m in (("abcdefghijklmnop", "GCM"),
                                             ("abcdefghijklmnop12345678", "CBC"),
                                             ("abcdefghijklmnop", "ECB"))]),
    ("try_aes_decrypt_wrong_key", lambda: F.try_aes_decrypt(
        F.aes_encrypt("name", F.lit("abcdefghijklmnop")), F.lit("ponmlkjihgfedcba"))),
    # strings
    ("soundex", lambda: F.soundex("name")),
    ("conv", lambda: [F.conv("num", 2, 16), F.conv("num", 10, -16), F.conv("num", 10, 36)]),
    ("format_number", lambda: [F.format_number(F.col("i") * 1234.5678, 2),
                               F.format_number(F.lit(2.5), 0)]),
    ("split_limit", lambda: [F.split("csv", ",", 2), F.split("csv", "[,2]", 1)]),
    ("str_to_map_regex", lambda: F.str_to_map(F.lit("a=1;b=2"), F.lit("[;]"), F.lit("="))),
    ("instr_occurrence", lambda: [F.instr("name", "e", 1, 2), F.instr("name", "r", 3)]),
    ("like_escape", lambda: F.col("name").like("P%").alias("p")),
    ("binary_contains", lambda: [F.contains(_b("num"), _b(F.lit("01"))),
                                 F.startswith(_b("num"), _b(F.lit("01"))),
                                 F.endswith(_b("num"), _b(F.lit("01")))]),
    ("binary_pad_reverse", lambda: [F.hex(F.lpad(_b("name"), 8, _b(F.lit("xy")))),
                                    F.hex(F.rpad(_b("name"), 3, _b(F.lit("xy")))),
                                    F.hex(F.reverse(_b("name")))]),
    ("bitwise_not", lambda: F.bitwise_not("i")),
    ("number_formats", lambda: [F.to_number(F.lit("$78.12"), F.lit("$99.99")),
                                F.try_to_number(F.lit("77"), F.lit("$99.99")),
                                F.try_to_number(F.lit("-1,234.5"), F.lit("S9,999.99")),
                                F.to_char(F.col("i") * 12.345, F.lit("$99.99")),
                                F.to_varchar(F.col("i") * -1234.5, F.lit("0,000.00"))]),
    ("collation", lambda: F.collation("name")),
    ("reflect", lambda: [F.reflect(F.lit("java.util.UUID"), F.lit("fromString"),
                                   F.lit("A5CF6C42-0C85-418F-AF6C-3E4E5B1328F2")),
                         F.java_method(F.lit("java.lang.String"), F.lit("valueOf"), "name"),
                         F.try_reflect(F.lit("scala.Predef"), F.lit("require"), F.lit(False))]),
    ("schema_of_json_options", lambda: F.schema_of_json(
        F.lit("{a: 1, b: [1.5]}"), {"allowUnquotedFieldNames": "true"})),
    # variants (compared through their JSON text)
    ("parse_json", lambda: F.to_json(F.try_parse_json("js"))),
    ("variant_get", lambda: [F.try_variant_get(F.try_parse_json("js"), p, t) for p, t in (
        ("$.a", "int"), ("$.arr[1]", "string"), ("$.o.p", "string"), ("$.s", "int"),
        ("$.arr", "array<int>"), ("$[1]", "double"))]),
    ("schema_of_variant", lambda: F.schema_of_variant(F.try_parse_json("js"))),
    ("variant_edits", lambda: [
        F.to_json(F.try_variant_set(F.try_parse_json("js"), "$.o.z", F.lit(5))),
        F.to_json(F.try_variant_insert(F.try_parse_json("js"), "$.arr[1]", F.lit("y"))),
        F.to_json(F.try_variant_array_append(F.try_parse_json("js"), "$.arr", F.lit(4))),
        F.to_json(F.variant_delete(F.try_parse_json("js"), "$.o", "$[0]")),
        F.to_json(F.variant_strip_nulls(F.try_parse_json("js")))]),
    ("to_variant_object", lambda: F.to_json(F.to_variant_object(
        F.struct("i", F.create_map(F.lit("k"), "name").alias("m"))))),
]


def _cols(built):
    return built if isinstance(built, list) else [built]


@pytest.mark.parametrize("build", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_function(compare, build):
    compare(lambda s: _frame(s).select("i", *_cols(build())))


def test_sentences(compare):
    """Values and names; sparkless cannot type the inner arrays' containsNull=false."""
    compare(lambda s: _frame(s).select(
        "i", F.sentences(F.lit("Hi there! How are you? Fine.")), F.sentences("name")),
        check_nullability=False)


def test_xml(compare):
    def fn(s):
        df = s.createDataFrame(
            [(1, "<p><a>1</a><a>2</a><b k='v'>t</b></p>"), (2, "<p><a>3</a></p>"), (3, None)],
            "i int, v string")
        schema = "STRUCT<a: ARRAY<BIGINT>, b: STRUCT<_VALUE: STRING, _k: STRING>>"
        return df.select(
            "i",
            F.from_xml("v", schema).alias("parsed"),
            F.schema_of_xml(F.lit("<p><a>1</a><a>2</a><b k='v'>t</b></p>")).alias("schema"),
            F.to_xml(F.struct("i", F.col("v").alias("text")), {"rowTag": "r"}).alias("xml"),
        )

    compare(fn)


def test_schema_of_variant_agg(compare):
    compare(lambda s: _frame(s).agg(F.schema_of_variant_agg(F.try_parse_json("js"))))


@pytest.mark.parametrize("build", [
    lambda: F.aes_decrypt("b", F.lit("abcdefghijklmnop")),
    lambda: F.aes_decrypt("b", F.lit("short key")),
    lambda: F.to_binary("s", F.lit("hex")),
])
def test_errors(compare, build):
    """Bad input fails on both engines with a PySpark error of the same class."""
    from pyspark.errors import PySparkException

    from tests.conftest import mode_for

    classes = []
    ours, theirs = compare.both(
        lambda s: s.createDataFrame([(b"0" * 40, "<a>")], "b binary, s string").select(build()))
    for df in (theirs, ours):
        with mode_for(df), pytest.raises(PySparkException) as info:
            df.collect()
        classes.append(info.value.getCondition())
    assert classes[0] == classes[1]


def test_vectors(compare):
    def fn(s):
        df = s.createDataFrame(
            [(1, [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]), (2, [3.0, -4.0, 0.0], [1.0, 0.5, 2.0]),
             (3, None, [1.0, 1.0, 1.0])],
            "i int, a array<float>, b array<float>")
        two = F.lit(2.0).cast("float")
        return df.select(
            "i", F.vector_inner_product("a", "b"), F.vector_cosine_similarity("a", "b"),
            F.vector_l2_distance("a", "b"), F.vector_norm("a", two),
            F.vector_norm("a", F.lit(1.0).cast("float")), F.vector_normalize("b", two))

    compare(fn)


def test_vector_aggregates(compare):
    def fn(s):
        df = s.createDataFrame([([1.0, 2.0],), ([3.0, 4.0],), (None,)], "v array<float>")
        return df.agg(F.vector_sum("v"), F.vector_avg("v"))

    compare(fn)
