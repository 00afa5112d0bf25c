"""`tickerlake stream produce` as a user runs it: onto a lake `tickerlake run` published (the
walk starts from the published closes, read by the local engine), a rerun stored once, and
the usage errors that exit 2 before the lake is touched."""
from __future__ import annotations

from decimal import Decimal

import pytest

from glue_jobs.adapters.local.stream_sqlite import SqliteStream, stream_path
from glue_jobs.lake.quote_record import decode
from glue_jobs.runtime import open_runtime
from workflows.cli.main import main


@pytest.fixture(scope="module")
def published_lake(tmp_path_factory):
    lake = tmp_path_factory.mktemp("stream") / "lake"
    assert main(["run", "--lake", str(lake), "--symbols", "IBM,AAPL", "--date", "2026-11-20", "--no-dashboard"]) == 0
    return lake


def quotes(lake) -> list:
    with SqliteStream(stream_path(lake, "quotes")) as log:
        return [decode(r.data) for s in log.shards() for r in log.read(s, None, 100_000)]


def test_produce_puts_records_anchored_on_the_published_close_and_a_rerun_stores_nothing_twice(published_lake, capsys):
    args = ["stream", "produce", "--lake", str(published_lake), "--symbols", "IBM,AAPL", "--records", "40",
            "--seed", "5"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "40 quote record(s) put on the stream" in out and "warning" not in err
    first = quotes(published_lake)
    assert len(first) == 40 and [q.sequence for q in first if q.symbol == "IBM"] == list(range(20))
    closes = open_runtime(str(published_lake)).engine.query(
        "select symbol, max_by(close, trade_date) as close from stocks.daily_prices "
        f"where trade_date < date '{first[0].latest_trading_day}' group by symbol").to_pylist()
    for row in closes:
        anchored = {q.previous_close for q in first if q.symbol == row["symbol"]}
        assert anchored == {Decimal(repr(row["close"])).quantize(Decimal("0.0001"))}
    assert main(args) == 0  # the same quotes again: their dedup ids are within the window
    assert len(quotes(published_lake)) == 40


@pytest.mark.parametrize("args, says", [
    (["--interval", "0"], "--interval"),
    (["--for", "soon"], "is not a duration"),
    (["--records", "0"], "give 1 or more"),
    (["--watchlist", "IBM", "--symbols", "AAPL"], "not allowed with argument"),
])
def test_bad_flags_exit_2_naming_the_flag(tmp_path, capsys, args, says):
    with pytest.raises(SystemExit) as exited:  # argparse's refusal, in our wording
        main(["stream", "produce", "--lake", str(tmp_path / "lake"), *args])
    assert exited.value.code == 2
    assert says in capsys.readouterr().err
    assert not (tmp_path / "lake").exists()


def test_an_interval_the_key_cannot_sustain_exits_2_naming_the_one_it_can(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ALPHAVANTAGE_API_KEY", "FAKEKEY-7f3a9c2e51")
    monkeypatch.setenv("ALPHAVANTAGE_BASE_URL", "http://127.0.0.1:9/query")  # never called
    assert main(["stream", "produce", "--lake", str(tmp_path / "lake"), "--source", "alphavantage",
                 "--symbols", "IBM,AAPL,MSFT,NVDA,XOM", "--interval", "60"]) == 2
    err = capsys.readouterr().err
    assert "the shortest interval it sustains is" in err and "Traceback" not in err
    assert not (tmp_path / "lake").exists()


def test_alphavantage_without_a_key_exits_2_before_the_lake_exists(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ALPHAVANTAGE_API_KEY", raising=False)
    monkeypatch.delenv("ALPHAVANTAGE_SECRET_ID", raising=False)
    assert main(["stream", "produce", "--lake", str(tmp_path / "lake"), "--source", "alphavantage"]) == 2
    assert "ALPHAVANTAGE_API_KEY" in capsys.readouterr().err
    assert not (tmp_path / "lake").exists()
