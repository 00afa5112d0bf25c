"""`tickerlake query` renders values as Athena shows them (its console and CSV results):
arrays [a, b], maps {k=v}, NULL an empty field, doubles as Java prints them, decimals exactly,
timestamps with milliseconds; JSON keeps bigint an integer and a decimal an exact string."""
from __future__ import annotations

import datetime as dt
import decimal
import json

import pyarrow as pa
import pytest

from workflows.cli.output import java_double, java_real, render


@pytest.mark.parametrize("value, text", [
    (185.64, "185.64"), (100.0, "100.0"), (1e7, "1.0E7"), (1e-4, "1.0E-4"), (0.001, "0.001"),
    (123456789.0, "1.23456789E8"), (-2.5e-10, "-2.5E-10"), (0.1 + 0.2, "0.30000000000000004"),
    (float("nan"), "NaN"), (float("inf"), "Infinity"), (-0.0, "-0.0"), (9999999.0, "9999999.0"),
])
def test_doubles_print_as_java_s_double_to_string(value, text):
    # Java's Double.toString: plain form for 1e-3 <= |x| < 1e7, else d.dddE<n>; shortest digits
    assert java_double(value) == text


def test_reals_print_their_shortest_float_digits():
    assert java_real(1.100000023841858) == "1.1"


TABLE = pa.table({
    "a": pa.array([[1, None, 3], None], pa.list_(pa.int32())),
    "m": pa.array([[("k", 1), ("j", None)], []], pa.map_(pa.string(), pa.int64())),
    "d": pa.array([decimal.Decimal("12.30"), None], pa.decimal128(10, 2)),
    "ts": pa.array([dt.datetime(2024, 1, 2, 15, 59, 59, 123000), None], pa.timestamp("ms")),
    "b": pa.array([True, None]),
    "s": pa.array(["", None]),
    "big": pa.array([2 ** 62 + 1, None], pa.int64()),
    "x": pa.array([2.5, None], pa.float64()),
})


def test_table_format():
    lines = render(TABLE, "table").splitlines()
    assert lines[2].split() == ["[1,", "null,", "3]", "{k=1,", "j=null}", "12.30", "2024-01-02", "15:59:59.123",
                                "true", str(2 ** 62 + 1), "2.5"]
    assert lines[3].split() == ["{}"]  # NULL shows as nothing, an empty map as {}


def test_csv_format_null_is_empty_and_an_empty_string_is_quoted():
    lines = render(TABLE, "csv").splitlines()
    assert lines[0] == "a,m,d,ts,b,s,big,x"
    assert lines[1] == f'"[1, null, 3]","{{k=1, j=null}}",12.30,2024-01-02 15:59:59.123,true,"",{2 ** 62 + 1},2.5'
    assert lines[2] == ",{},,,,,,"


def test_json_format_keeps_integers_exact_and_decimals_as_exact_strings():
    rows = json.loads(render(TABLE, "json"))
    assert rows[0] == {"a": [1, None, 3], "m": {"k": 1, "j": None}, "d": "12.30", "ts": "2024-01-02 15:59:59.123",
                       "b": True, "s": "", "big": 2 ** 62 + 1, "x": 2.5}
    assert rows[1] == {"a": None, "m": {}, "d": None, "ts": None, "b": None, "s": None, "big": None, "x": None}
    assert '"big": 4611686018427387905' in render(TABLE, "json")


def test_query_sums_print_as_integers_in_json(tmp_path, capsys):
    from workflows.cli.main import main

    lake = tmp_path / "lake"
    assert main(["run", "--lake", str(lake), "--symbols", "IBM", "--date", "2026-11-20", "--no-dashboard"]) == 0
    capsys.readouterr()
    assert main(["query", "--lake", str(lake), "--format", "json",
                 "select max(volume) as v, count(*) as n, array[1, 2] as a, map(array['x'], array[1.5]) as m "
                 "from stocks.daily_prices"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert isinstance(row["v"], int) and isinstance(row["n"], int)
    assert row["a"] == [1, 2] and row["m"] == {"x": "1.5"}
