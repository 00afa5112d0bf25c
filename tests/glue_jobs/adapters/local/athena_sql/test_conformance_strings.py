"""Conformance: string, regular-expression and conditional functions, and format().

Expected answers come from Trino's documentation (docs/src/main/sphinx/functions/string.md,
regexp.md, conditional.md) and source (core/trino-main/.../operator/scalar/StringFunctions.java,
JoniRegexpFunctions.java, FormatFunction.java, airlift's SliceUtf8) and from
java.util.Formatter's documented behaviour; never from DuckDB or sqlglot."""
from __future__ import annotations

import pytest
from athena_harness import arrow_type, case_ids

# (sql, expected value, expected Athena type, Trino documentation section)
CASES = [
    # --- functions/regexp
    ("select regexp_extract('abc', '(\\d+)', 1)", None, "varchar",
     "functions/regexp#regexp_extract: no match is NULL (JoniRegexpFunctions.regexpExtract returns null)"),
    ("select regexp_extract('abc123def456', '\\d+')", "123", "varchar",
     "functions/regexp#regexp_extract: the first match, group 0 by default"),
    ("select regexp_extract('2024-01-15', '(\\d+)-(\\d+)', 2)", "01", "varchar",
     "functions/regexp#regexp_extract: a capturing group"),
    ("select regexp_like('abc', 'b')", True, "boolean",
     "functions/regexp#regexp_like: a partial match (the pattern need not match the whole string)"),
    ("select regexp_like('abc', '^b')", False, "boolean", "functions/regexp#regexp_like: anchors"),
    ("select regexp_replace('abc-def', '(\\w+)-(\\w+)', '$2 $1')", "def abc", "varchar",
     "functions/regexp#regexp_replace: $g references a capturing group"),
    ("select regexp_replace('a1b2c3', '\\d')", "abc", "varchar",
     "functions/regexp#regexp_replace: the two-argument form removes every match"),
    ("select regexp_replace('price 5', '(\\d)', '\\$$1')", "price $5", "varchar",
     "functions/regexp#regexp_replace: a dollar sign escaped with a backslash is literal"),
    ("select regexp_extract_all('a1b22c333', '\\d+')", ["1", "22", "333"], "array(varchar)",
     "functions/regexp#regexp_extract_all"),
    ("select regexp_extract_all('a1b22', '([a-z])(\\d+)', 2)", ["1", "22"], "array(varchar)",
     "functions/regexp#regexp_extract_all: a capturing group"),
    ("select regexp_count('1a 2b 14m', '\\s*[a-z]+\\s*')", 3, "bigint",
     "functions/regexp#regexp_count: the documented example"),
    ("select regexp_split('1a 2b 14m', '\\s*[a-z]+\\s*')", ["1", "2", "14", ""], "array(varchar)",
     "functions/regexp#regexp_split: the documented example, a trailing empty string kept"),
    # --- functions/string
    ("select split_part('a,b', ',', 3)", None, "varchar",
     "functions/string#split_part: past the last field is NULL (StringFunctions.splitPart)"),
    ("select split_part('a,b,,c', ',', 3)", "", "varchar", "functions/string#split_part: an empty field is ''"),
    ("select split_part('a,b,,c', ',', 4)", "c", "varchar", "functions/string#split_part: the last field"),
    ("select substr('hello', -3)", "llo", "varchar", "functions/string#substr: a negative start counts from the end"),
    ("select substr('hello', 10)", "", "varchar", "functions/string#substr: past the end is ''"),
    ("select substring('hello', -3, 2)", "ll", "varchar", "functions/string#substring: negative start with a length"),
    ("select substr('hello', 0)", "", "varchar",
     "functions/string#substr: start 0 is '' (StringFunctions.substring: start == 0 returns EMPTY_SLICE)"),
    ("select substr('hello', -6)", "", "varchar",
     "functions/string#substr: a negative start before the beginning is '' (not clamped)"),
    ("select substr('hello', 2, 3)", "ell", "varchar", "functions/string#substr: start and length"),
    ("select substr('hello', 2, -1)", "", "varchar", "functions/string#substr: a length <= 0 is ''"),
    ("select strpos('hello', 'l')", 3, "bigint", "functions/string#strpos: 1-based, bigint"),
    ("select strpos('hello', 'z')", 0, "bigint", "functions/string#strpos: 0 when not found"),
    ("select position('lo' in 'hello')", 4, "bigint", "functions/string#position"),
    ("select length('héllo')", 5, "bigint", "functions/string#length: code points, bigint"),
    ("select length('e\u0301')", 2, "bigint",
     "functions/string#length: code points, not grapheme clusters (a combining accent counts)"),
    ("select n / 2 from (select length('abc') as n)", 1, "bigint",
     "functions/string#length: bigint in Trino's typing, so a subquery's column of it divides as bigint "
     "(sqlglot's default typing says integer)"),
    ("select transform(array['abc'], x -> coalesce(length(x), 1))", [3], "array(bigint)",
     "functions/string#length in a lambda's body: bigint, and coalesce with an integer is bigint"),
    ("select lower('ÀBC')", "àbc", "varchar", "functions/string#lower"),
    ("select upper('straße')", "STRAßE", "varchar",
     "functions/string#upper: code point by code point (Character.toUpperCase('ß') is 'ß')"),
    ("select trim(chr(9) || ' a ' || chr(12288))", "a", "varchar",
     "functions/string#trim: Java whitespace, tab and U+3000 included (SliceUtf8.trim, Character.isWhitespace)"),
    ("select trim(chr(160) || 'a')", "\u00a0a", "varchar",
     "functions/string#trim: the no-break space U+00A0 is not whitespace for Character.isWhitespace"),
    ("select ltrim('  a  ')", "a  ", "varchar", "functions/string#ltrim"),
    ("select rtrim('  a  ')", "  a", "varchar", "functions/string#rtrim"),
    ("select trim(BOTH 'x' FROM 'xxaxx')", "a", "varchar", "functions/string#trim: trim specification and characters"),
    ("select trim('xyaxy', 'xy')", "a", "varchar", "functions/string#trim: the characters to remove"),
    ("select lpad('abc', 2, 'x')", "ab", "varchar", "functions/string#lpad: truncates when size is shorter"),
    ("select lpad('abc', 6, 'xy')", "xyxabc", "varchar", "functions/string#lpad: the padding repeats"),
    ("select rpad('abc', 5, 'xy')", "abcxy", "varchar", "functions/string#rpad"),
    ("select rpad('abc', 2, 'x')", "ab", "varchar", "functions/string#rpad: truncates when size is shorter"),
    ("select replace('abcabc', 'b')", "acac", "varchar", "functions/string#replace: two arguments remove"),
    ("select replace('abcabc', 'b', 'X')", "aXcaXc", "varchar", "functions/string#replace"),
    ("select replace('ab', '', '-')", "-a-b-", "varchar",
     "functions/string#replace: an empty search inserts before every character and at the end "
     "(StringFunctions.replace)"),
    ("select concat('a', null)", None, "varchar", "functions/string#concat: NULL when any argument is NULL"),
    ("select concat('a', 'b', 'c')", "abc", "varchar", "functions/string#concat"),
    ("select 'a' || null", None, "varchar", "functions/string#concatenation-operator: || with NULL is NULL"),
    ("select 'a' || 'b'", "ab", "varchar", "functions/string#concatenation-operator"),
    ("select concat_ws(',', 'a', null, 'b')", "a,b", "varchar", "functions/string#concat_ws: NULLs are skipped"),
    ("select concat_ws(null, 'a', 'b')", None, "varchar", "functions/string#concat_ws: a NULL separator gives NULL"),
    ("select concat_ws('-', array['a', null, 'c'])", "a-c", "varchar", "functions/string#concat_ws: an array"),
    ("select reverse('abc')", "cba", "varchar", "functions/string#reverse"),
    ("select chr(65)", "A", "varchar(1)", "functions/string#chr"),
    ("select chr(8364)", "€", "varchar(1)", "functions/string#chr: any code point"),
    ("select codepoint('A')", 65, "integer", "functions/string#codepoint: integer"),
    ("select starts_with('abc', 'ab')", True, "boolean", "functions/string#starts_with"),
    # --- format(): java.util.Formatter (FormatFunction converts decimals to BigDecimal, integers to
    # Long, doubles to Double; a NULL argument is passed as null, which Formatter prints "null")
    ("select format('%.2f', 2.345)", "2.35", "varchar",
     "functions/string#format: %.2f of a decimal rounds half up (BigDecimal, RoundingMode.HALF_UP)"),
    ("select format('%.1f', 0.15e0)", "0.2", "varchar",
     "functions/string#format: %.1f of a double rounds the shortest decimal 0.15 half up "
     "(java.util.Formatter uses FormattedFloatingDecimal.applyPrecision; C's printf gives 0.1)"),
    ("select format('%,d', 1234567)", "1,234,567", "varchar", "functions/string#format: %,d groups thousands"),
    ("select format('%s', 'x')", "x", "varchar", "functions/string#format: %s"),
    ("select format('%s and %s', 'a', 1)", "a and 1", "varchar", "functions/string#format: several arguments"),
    ("select format('%05d', 42)", "00042", "varchar", "functions/string#format: zero padding"),
    ("select format('%05d', -42)", "-0042", "varchar", "functions/string#format: zero padding after the sign"),
    ("select format('%-6d|', 42)", "42    |", "varchar", "functions/string#format: left-justified"),
    ("select format('%10.3f', 3.14159)", "     3.142", "varchar", "functions/string#format: width and precision"),
    ("select format('%+,.1f', 1234.55)", "+1,234.6", "varchar", "functions/string#format: sign and grouping flags"),
    ("select format('%.2f', -0.001)", "-0.00", "varchar",
     "functions/string#format: Formatter keeps the sign of a negative value that rounds to zero"),
    ("select format('%d%%', 5)", "5%", "varchar", "functions/string#format: %% is a percent sign"),
    ("select format('%d', null)", "null", "varchar", "functions/string#format: a NULL argument prints null"),
    ("select format('%.2f', close) from stocks.prices where symbol = 'IBM'", "163.55", "varchar",
     "functions/string#format: a double column"),
    # --- functions/conditional
    ("select coalesce(null, 'a')", "a", "varchar", "functions/conditional#coalesce"),
    ("select coalesce(close, 0) from stocks.prices where symbol = 'AAPL' and trade_date = date '2024-01-04'",
     0.0, "double", "functions/conditional#coalesce: the common type of double and integer is double"),
    ("select nullif(1, 1)", None, "integer", "functions/conditional#nullif"),
    ("select nullif('a', 'b')", "a", "varchar", "functions/conditional#nullif: unequal gives the first"),
    ("select if(1 > 2, 'a')", None, "varchar", "functions/conditional#if: without a false value, NULL"),
    ("select if(1 < 2, 'a', 'b')", "a", "varchar", "functions/conditional#if"),
    ("select case when close > 180 then 'high' else 'low' end from stocks.prices "
     "where symbol = 'IBM'", "low", "varchar", "functions/conditional#case"),
    ("select case 2 when 1 then 'one' when 2 then 'two' end", "two", "varchar",
     "functions/conditional#case: the simple form"),
    ("select try_cast('x' as integer)", None, "integer", "functions/conversion#try_cast: NULL where cast fails"),
    ("select try_cast('12' as integer)", 12, "integer", "functions/conversion#try_cast"),
    ("select try(1 / 0)", None, "integer", "functions/conditional#try: a division by zero is NULL"),
    ("select try(cast('x' as integer))", None, "integer", "functions/conditional#try: a failed cast is NULL"),
    ("select try(split_part('a', ',', 0))", None, "varchar",
     "functions/conditional#try: a failing function (INVALID_FUNCTION_ARGUMENT) is NULL"),
    ("select coalesce(try(split_part('a', ',', 0)), 'none')", "none", "varchar",
     "functions/conditional#try: the NULL of try is a value for the expression around it"),
]


@pytest.mark.parametrize("sql, expected, athena_type, section", CASES, ids=case_ids(CASES))
def test_strings_answer_as_athena(athena, sql, expected, athena_type, section):
    answer = athena.answer(sql)
    assert answer.rows == [(expected,)], section
    assert answer.types == [arrow_type(athena_type)], section


# (sql, words the user reads, Trino documentation section)
REFUSALS = [
    ("select split_part('a,b', ',', 0)", "Index must be greater than zero",
     "functions/string#split_part: the index starts at 1 (StringFunctions.splitPart checkCondition)"),
    ("select lpad('abc', 5, '')", "Padding string must not be empty", "functions/string#lpad"),
    ("select chr(-1)", "Not a valid Unicode code point: -1", "functions/string#chr"),
    ("select 'a' || 1", "Unexpected parameters (varchar(1), integer) for function concat",
     "functions/string#concatenation-operator: Trino has no implicit cast of a number to varchar"),
    ("select regexp_like('abc', 'a(?=b)')", "valid Athena SQL that the local engine does not support yet",
     "functions/regexp: Java's lookaround, which the local regular expressions lack"),
    ("select format('%x', 255)", "valid Athena SQL that the local engine does not support yet",
     "functions/string#format: conversions other than %s, %d, %f"),
    ("select format('%d', 'a')", "IllegalFormatConversion: d != java.lang.String",
     "functions/string#format: Formatter refuses %d of a string"),
    ("select strpos('abcabc', 'b', 2)", "valid Athena SQL that the local engine does not support yet",
     "functions/string#strpos: the instance argument"),
]


@pytest.mark.parametrize("sql, words, section", REFUSALS, ids=case_ids(REFUSALS))
def test_strings_refused_as_athena_refuses(athena, sql, words, section):
    athena.refused(sql, words, section, "string_split", "regexp_matches")
