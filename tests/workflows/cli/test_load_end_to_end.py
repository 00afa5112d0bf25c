"""`tickerlake load` on a real local lake: a dropped file reaches stocks.daily_prices and the
serving table only through the audit, a second drop of the same bytes changes nothing, a bad file
is refused with its reason (exit 2), and a scheduled synthetic run never overwrites a dropped bar."""
from __future__ import annotations

import datetime as dt
import shutil

import pytest

from glue_jobs.lake import trading_calendar
from glue_jobs.runtime import open_runtime
from workflows.cli.main import main

pytestmark = pytest.mark.slow

AS_OF = dt.date(2024, 1, 10)
SESSIONS = trading_calendar.last_sessions(AS_OF, 25)  # oldest first
BAD_DAY = SESSIONS[10].isoformat()  # high below low: well-formed, so the audit's to refuse


def av_csv() -> bytes:
    lines = ["timestamp,open,high,low,close,volume"]
    for n, day in enumerate(reversed(SESSIONS)):  # Alpha Vantage: newest first, CRLF
        price = 100 + n
        high, low = (price - 5, price + 5) if day.isoformat() == BAD_DAY else (price + 2, price - 2)
        lines.append(f"{day.isoformat()},{price}.25,{high}.5,{low}.5,{price}.75,{1000 + n}")
    return ("\r\n".join(lines) + "\r\n").encode()


def generic_csv() -> bytes:
    lines = ["Date,Symbol,Open,High,Low,Close,Volume,Adj Close"]
    for n, day in enumerate(SESSIONS):
        for symbol, base in (("AAPL", 50), ("MSFT", 300)):
            lines.append(f"{day.isoformat()},{symbol},{base + n},{base + n + 1},{base + n - 1},{base + n},{10 * n},0")
    return ("\n".join(lines) + "\n").encode()


def load(lake, path, *args) -> int:
    return main(["load", str(path), "--lake", str(lake), "--date", AS_OF.isoformat(), *args])


def published(lake, symbol: str) -> dict[str, tuple]:
    rows = open_runtime(str(lake)).engine.query(
        f"select trade_date, open, high, low, close, volume, ingest_run_id from stocks.daily_prices "
        f"where symbol = '{symbol}'").to_pylist()
    return {r["trade_date"].isoformat(): (r["open"], r["high"], r["low"], r["close"], r["volume"]) for r in rows}


def served(lake, symbol: str) -> dict[str, tuple]:
    bars = open_runtime(str(lake)).serving.get_bars(symbol)
    return {b.trade_date: (float(b.open), float(b.high), float(b.low), float(b.close), int(b.volume)) for b in bars}


def lake_files(lake) -> dict[str, bytes]:
    return {str(p.relative_to(lake)): p.read_bytes() for p in sorted(lake.rglob("*"))
            if p.is_file() and "serving" not in p.parts and not p.name.endswith((".lock", "-wal", "-shm"))}


@pytest.fixture(scope="module")
def dropped(tmp_path_factory):
    """A new lake after `tickerlake load daily_IBM.csv` (25 sessions, one bar with high < low)."""
    root = tmp_path_factory.mktemp("drops")
    path = root / "daily_IBM.csv"
    path.write_bytes(av_csv())
    assert load(root / "lake", path) == 0
    return root


@pytest.fixture
def lake(dropped, tmp_path, capsys):
    shutil.copytree(dropped / "lake", tmp_path / "lake")
    capsys.readouterr()
    return tmp_path / "lake"


def test_a_dropped_alpha_vantage_csv_is_published_and_served_after_audit_with_the_bad_bar_quarantined(lake):
    prices = published(lake, "IBM")
    assert len(prices) == 24 and BAD_DAY not in prices
    newest = SESSIONS[-1].isoformat()
    assert prices[newest] == (100.25, 102.5, 98.5, 100.75, 1000)
    assert served(lake, "IBM") == prices  # every published bar served, the quarantined one not
    quarantined = open_runtime(str(lake)).engine.query(
        "select trade_date, rule from stocks.daily_prices_quarantine where symbol = 'IBM'").to_pylist()
    assert [(str(q["trade_date"]), q["rule"]) for q in quarantined] == [(BAD_DAY, "high_is_highest,low_is_lowest")]
    assert main(["serve", "verify", "--lake", str(lake)]) == 0  # the serving table equals what was published


def test_the_same_file_dropped_again_changes_nothing_and_says_so(lake, dropped, capsys):
    before = lake_files(lake)
    bars = served(lake, "IBM")
    assert load(lake, dropped / "daily_IBM.csv") == 0
    assert "already loaded" in capsys.readouterr().out
    renamed = dropped / "copy-of-ibm.csv"
    renamed.write_bytes(av_csv())
    assert load(lake, renamed, "--symbol", "IBM") == 0  # the content decides, not the name
    assert lake_files(lake) == before
    assert served(lake, "IBM") == bars


def test_a_generic_csv_is_split_by_symbol_and_published_and_served(lake, tmp_path, capsys):
    path = tmp_path / "export.csv"
    path.write_bytes(generic_csv())
    assert load(lake, path) == 0
    out, err = capsys.readouterr()
    assert "50 rows landed" in err and "columns ignored: adj close" in err
    for symbol, base in (("AAPL", 50), ("MSFT", 300)):
        prices = published(lake, symbol)
        assert len(prices) == 25
        assert prices[SESSIONS[0].isoformat()] == (base, base + 1, base - 1, base, 0)
        assert served(lake, symbol) == prices
    assert len(published(lake, "IBM")) == 24  # the earlier drop stays


def test_a_bad_file_is_refused_with_its_reason_exit_2_and_nothing_published(lake, tmp_path, capsys):
    path = tmp_path / "AAPL.csv"
    path.write_bytes(av_csv().replace(b".75,1001", b".75,1,001"))
    before = lake_files(lake)
    assert load(lake, path) == 2
    err = capsys.readouterr().err
    assert "AAPL.csv was not loaded" in err and "row 3: 7 fields, the header has 6" in err
    assert "Traceback" not in err
    assert path.read_bytes() == av_csv().replace(b".75,1001", b".75,1,001")  # the user's file untouched
    rejected = sorted(p for p in (lake / "rejected" / "drops").rglob("*") if p.is_file())
    assert [p.name for p in rejected] == ["AAPL.csv", "AAPL.csv.reason"]
    assert "row 3: 7 fields" in rejected[1].read_text()
    assert {k for k in lake_files(lake) if not k.startswith("rejected/")} == set(before)
    assert published(lake, "AAPL") == {}


def test_a_synthetic_run_never_overwrites_a_dropped_bar(lake, capsys):
    dropped_bars = published(lake, "IBM")
    assert main(["run", "--lake", str(lake), "--source", "synthetic", "--symbols", "IBM",
                 "--date", AS_OF.isoformat(), "--no-dashboard"]) == 0
    after = published(lake, "IBM")
    assert len(after) > len(dropped_bars)  # the synthetic run published the sessions the drop lacks
    assert {d: after[d] for d in dropped_bars} == dropped_bars
    assert served(lake, "IBM") == after


@pytest.mark.parametrize("target", ["missing.csv", "."])
def test_a_path_that_is_not_a_file_is_a_usage_error_that_touches_no_lake(tmp_path, capsys, target):
    lake = tmp_path / "lake"
    assert load(lake, tmp_path / target) == 2
    err = capsys.readouterr().err
    assert "give a CSV file" in err and "Traceback" not in err
    assert not lake.exists()


def test_a_drop_and_a_later_fetch_in_one_wap_keep_the_dropped_bars(tmp_path, capsys):
    """write_temp's de-duplication: both ingest runs pending at once, the fetch the newer one."""
    from ingestion.drops.land import LANDED, land_drop

    lake = tmp_path / "lake"
    landed = land_drop(open_runtime(str(lake), create=True).storage, av_csv(), "IBM.csv", as_of=AS_OF,
                       now=dt.datetime(2024, 1, 11, 1, tzinfo=dt.timezone.utc))
    assert landed.status == LANDED
    assert main(["run", "--lake", str(lake), "--source", "synthetic", "--symbols", "IBM",
                 "--date", AS_OF.isoformat(), "--no-dashboard"]) == 0
    prices = published(lake, "IBM")
    newest = SESSIONS[-1].isoformat()
    assert prices[newest] == (100.25, 102.5, 98.5, 100.75, 1000)  # the drop's bar, not the synthetic one
    # the drop's row won the de-duplication (the fetch's was dropped as a duplicate) and then failed
    # the audit: that day waits for a corrected drop (published one by one, the fetch would fill it)
    assert BAD_DAY not in prices
    assert served(lake, "IBM") == prices


def test_a_lake_another_run_holds_refuses_the_load_before_the_file_lands(lake, tmp_path, capsys):
    """Exit 5 with who holds it, and nothing landed: loading again later is the whole fix."""
    from glue_jobs.lake.errors import EXIT_LOCK_HELD
    from glue_jobs.lake.lock import LakeLock

    path = tmp_path / "two.csv"
    path.write_bytes(generic_csv())
    before = lake_files(lake)
    held = LakeLock(open_runtime(str(lake)).storage, "20240111T010000Z-other").acquire()
    try:
        assert load(lake, path) == EXIT_LOCK_HELD
    finally:
        held.release()
    err = capsys.readouterr().err
    assert "locked by run 20240111T010000Z-other" in err and "Traceback" not in err
    assert lake_files(lake) == before


def test_the_run_log_and_ledger_of_a_load_name_the_drop_as_its_source(lake, capsys):
    from glue_jobs.lake import layout
    from glue_jobs.lake.run_log import RunLog

    storage = open_runtime(str(lake)).storage
    (key,) = [k for k in storage.list_keys(layout.RUNS_PREFIX) if k.endswith(".json")]
    run_id = key.rsplit("/", 1)[-1][: -len(".json")]
    assert layout.is_drop_run(run_id)
    assert RunLog.load(storage, run_id).doc["settings"]["source"] == "drop"
    rows = open_runtime(str(lake)).engine.query(
        f"select source from stocks.pipeline_runs where run_id = '{run_id}'").to_pylist()
    assert rows == [{"source": "drop"}]
