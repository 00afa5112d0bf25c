"""Issue 14 end to end on a local lake, as a user runs it: `tickerlake run` publishes closes,
`stream produce --source synthetic` puts quotes anchored on them on the lake's own log,
`stream consume` (the real log adapter, opened through the runtime) serves them, keeps them in
`stocks.intraday_quotes` and alerts once; a second consume does nothing; `stream status`
shows no lag."""
from __future__ import annotations

import json
import re
import time
from dataclasses import replace
from decimal import Decimal

import pytest

from glue_jobs.adapters.local.quotes_sqlite import SqliteQuotesTable
from glue_jobs.lake.quote_record import decode, encode
from glue_jobs.runtime import open_runtime
from workflows.cli.main import main

SYMBOLS = ["IBM", "AAPL"]
RECORDS = 60


def _query(lake, sql: str, capsys) -> list[dict]:
    assert main(["query", "--lake", str(lake), "--format", "json", sql]) == 0
    return json.loads(capsys.readouterr().out)


def _intraday_alerts(lake) -> list[str]:
    path = lake / "alerts" / "alerts.jsonl"
    keys = [json.loads(line)["dedupe_key"] for line in path.read_text().splitlines() if line.strip()]
    return sorted(k for k in keys if k.startswith("intraday_"))


@pytest.fixture(scope="module")
def consumed(tmp_path_factory):
    base = tmp_path_factory.mktemp("e2e")
    lake = base / "lake"
    alerts = base / "alerts.yml"
    # any move beyond 0.01 % of the previous close alerts: the walk makes one for each symbol
    alerts.write_text("daily_move: {percent: 0.01}\n")
    mp = pytest.MonkeyPatch()
    mp.setenv("TICKERLAKE_ALERTS_FILE", str(alerts))
    try:
        assert main(["run", "--lake", str(lake), "--symbols", ",".join(SYMBOLS), "--date", "2026-11-20",
                     "--no-dashboard"]) == 0
        assert main(["stream", "produce", "--lake", str(lake), "--source", "synthetic", "--symbols",
                     ",".join(SYMBOLS), "--records", str(RECORDS), "--seed", "3"]) == 0
        # one quote the processor must reject (a price of 0), on the same log
        stream = open_runtime(str(lake)).stream
        first = decode(stream.read(stream.shards()[0], None, 1)[0].data)
        bad = replace(first, price=Decimal(0), sequence=10_000)
        stream.put(bad.symbol, encode(bad))
        stream.close()
        yield lake, mp
    finally:
        mp.undo()


def _lag_panel(lake, tmp_path, capsys) -> str:
    assert main(["dashboard", "--lake", str(lake), "--out", str(tmp_path / "index.html")]) == 0
    capsys.readouterr()
    html = (tmp_path / "index.html").read_text()
    panel = re.search(r'<section class="panel" data-panel-id="consumer_lag".*?</section>', html, re.S).group(0)
    return re.sub(r"<[^>]+>", " ", panel)


def test_produce_then_consume_serves_keeps_and_alerts_once(consumed, capsys, tmp_path):
    lake, _ = consumed
    capsys.readouterr()
    assert f"{RECORDS + 1:,} behind" in _lag_panel(lake, tmp_path, capsys)
    # small batches: an alert's once-only must hold across batches, not just inside one
    assert main(["stream", "consume", "--lake", str(lake), "--batch", "7"]) == 0
    err = capsys.readouterr().err
    assert f"{RECORDS + 1} records" in err and f"{RECORDS} accepted, 1 rejected" in err

    rows = _query(lake, "select count(*) as n from stocks.intraday_quotes", capsys)
    assert rows == [{"n": RECORDS}]  # what was put, less the rejected one
    per_symbol = {r["symbol"]: r["n"] for r in _query(
        lake, "select symbol, count(*) as n from stocks.intraday_quotes group by symbol", capsys)}
    assert per_symbol == {s: RECORDS // len(SYMBOLS) for s in SYMBOLS}

    table = SqliteQuotesTable(lake / "serving" / "quotes.sqlite")
    now = int(time.time())
    try:
        for symbol in SYMBOLS:
            assert len(table.recent(symbol, now=now)) == RECORDS // len(SYMBOLS)
            current = table.get_current(symbol, now=now)
            assert current is not None and current.quote.sequence == RECORDS // len(SYMBOLS) - 1
    finally:
        table.close()
    assert len(list((lake / "stream" / "rejected").rglob("*.json"))) == 1

    alerts = _intraday_alerts(lake)
    assert len(alerts) == len(SYMBOLS) and {a.split("|")[1] for a in alerts} == set(SYMBOLS)

    # a second consume finds nothing new: no record, no row, no alert
    assert main(["stream", "consume", "--lake", str(lake)]) == 0
    assert "stream consume: 0 records" in capsys.readouterr().err
    assert _query(lake, "select count(*) as n from stocks.intraday_quotes", capsys) == [{"n": RECORDS}]
    assert _intraday_alerts(lake) == alerts

    assert main(["stream", "status", "--lake", str(lake), "--format", "json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert [s["lag_records"] for s in status["shards"]] == [0] * len(status["shards"])
    assert all(s["checkpoint"] == s["last_sequence"] for s in status["shards"])
    assert status["failure_queue"] == {"visible": 0, "in_flight": 0}
    assert "caught up" in _lag_panel(lake, tmp_path, capsys)
