import datetime as dt
import json

import pyarrow as pa

from workflows.cli.output import render

TABLE = pa.table({
    "symbol": ["AAPL", "MSFT"],
    "trade_date": [dt.date(2026, 11, 19), dt.date(2026, 11, 20)],
    "close": [228.5, 415.25],
    "volume": [1000, None],
})


def test_table_format_aligns_numbers_right_and_counts_rows():
    text = render(TABLE, "table")
    lines = text.splitlines()
    assert lines[0].split() == ["symbol", "trade_date", "close", "volume"]
    assert "AAPL" in lines[2] and "228.5" in lines[2]
    assert lines[-1] == "(2 rows)"
    assert render(TABLE, "table", max_rows=1).splitlines()[-1] == "(2 rows, 1 not shown)"


def test_csv_and_json_round_trip_values():
    assert render(TABLE, "csv").splitlines() == [
        "symbol,trade_date,close,volume", "AAPL,2026-11-19,228.5,1000", "MSFT,2026-11-20,415.25,",
    ]
    assert json.loads(render(TABLE, "json"))[1] == {"symbol": "MSFT", "trade_date": "2026-11-20", "close": 415.25, "volume": None}
