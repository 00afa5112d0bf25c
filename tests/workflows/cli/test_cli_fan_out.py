"""`tickerlake ingest --fan-out` as a user runs it: planner, worker threads, then the WAP once;
the published table equals what a plain `tickerlake run` publishes from the same source."""
from __future__ import annotations

import json

from glue_jobs.lake import layout
from glue_jobs.runtime import build_local
from workflows.cli.main import main

DAY = "2026-11-20"
SYMBOLS = "AAPL,MSFT,IBM,NVDA,AMZN,META,JPM"


def _published(lake) -> list[dict]:
    _, _, engine, _ = build_local(lake)
    return engine.query("select symbol, trade_date, open, high, low, close, volume from stocks.daily_prices "
                        "order by symbol, trade_date").to_pylist()


def test_fan_out_ingest_publishes_what_a_single_run_publishes(tmp_path, capsys):
    fan, single = tmp_path / "fan", tmp_path / "single"
    assert main(["ingest", "--fan-out", "--workers", "3", "--lake", str(fan), "--symbols", SYMBOLS,
                 "--date", DAY]) == 0
    out = capsys.readouterr()
    assert "7 of 7 symbols fetched" in out.out and "dead-lettered: none" in out.out
    assert "[7/7] after_publish" in out.err  # the WAP ran once, every stage
    assert main(["run", "--lake", str(single), "--symbols", SYMBOLS, "--date", DAY, "--no-dashboard"]) == 0
    capsys.readouterr()
    assert _published(fan) == _published(single) and len(_published(fan)) == 700
    assert main(["runs", "--lake", str(fan), "--format", "json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)
    assert run["status"] == "succeeded"
    # the same day again: the run was handed to the WAP already, nothing is fetched or published twice
    assert main(["ingest", "--fan-out", "--lake", str(fan), "--symbols", SYMBOLS, "--date", DAY]) == 0
    assert "already handed to the WAP" in capsys.readouterr().out


def test_fan_out_refuses_a_bad_worker_count_without_a_traceback(tmp_path, capsys):
    assert main(["ingest", "--fan-out", "--workers", "99", "--lake", str(tmp_path / "l"), "--date", DAY]) == 2
    assert "--workers 99: give 1 to 32" in capsys.readouterr().err


def test_fan_out_refuses_a_lake_another_run_holds_before_planning_or_landing(tmp_path, capsys):
    """A `tickerlake run` holding the lake: the fan-out must not land raw or write the ingest state
    beside it. It exits 5 with what to do, and runs once the lake is free."""
    from glue_jobs.adapters.local.storage import LocalStorage
    from glue_jobs.lake.errors import EXIT_LOCK_HELD
    from glue_jobs.lake.lock import LakeLock

    lake = tmp_path / "lake"
    storage = LocalStorage(lake)
    held = LakeLock(storage, "20261120T210000Z-other").acquire()
    assert main(["ingest", "--fan-out", "--lake", str(lake), "--symbols", "AAPL,MSFT", "--date", DAY]) == \
        EXIT_LOCK_HELD
    err = capsys.readouterr().err
    assert "locked by run 20261120T210000Z-other" in err and "Traceback" not in err
    assert [k for k in storage.list_keys("") if k.startswith(("raw/", "fanout/", "state/ingestion"))] == []
    held.release()
    assert main(["ingest", "--fan-out", "--lake", str(lake), "--symbols", "AAPL,MSFT", "--date", DAY]) == 0
    assert "2 of 2 symbols fetched" in capsys.readouterr().out
    assert not storage.exists(layout.LOCK_KEY)  # let go at the end


def test_a_fan_out_whose_wap_failed_is_finished_by_the_next_call_without_fetching_again(tmp_path, capsys,
                                                                                       monkeypatch):
    from glue_jobs.lake import failpoints

    lake = tmp_path / "lake"
    args = ["ingest", "--fan-out", "--workers", "2", "--lake", str(lake), "--symbols", "AAPL,MSFT", "--date", DAY]
    monkeypatch.setenv(failpoints.ENV_POINT, "runner.before_publish")
    monkeypatch.setenv(failpoints.ENV_ACTION, "raise")
    failpoints.reset()
    try:
        assert main(args) != 0
    finally:
        monkeypatch.delenv(failpoints.ENV_POINT)
        failpoints.reset()
    capsys.readouterr()
    assert main(args) == 0
    out = capsys.readouterr()
    assert "2 of 2 symbols fetched" in out.out
    assert ": fetched" not in out.err  # nothing fetched again: only the finish and the WAP
    assert len(_published(lake)) == 200


def test_a_later_fan_out_the_same_day_fetches_only_the_symbols_no_run_of_the_day_planned(tmp_path, capsys):
    lake = tmp_path / "lake"
    base = ["ingest", "--fan-out", "--workers", "2", "--lake", str(lake), "--date", DAY]
    assert main([*base, "--symbols", "AAPL,MSFT"]) == 0
    first = capsys.readouterr().out
    assert main([*base, "--symbols", "AAPL,MSFT,IBM"]) == 0
    out = capsys.readouterr()
    assert "1 of 1 symbols fetched" in out.out and ": fetched" in out.err
    assert out.err.count(": fetched") == 1  # IBM alone; AAPL and MSFT were not fetched again
    assert first.split()[2] not in out.out  # a run of its own
    assert {r["symbol"] for r in _published(lake)} == {"AAPL", "MSFT", "IBM"} and len(_published(lake)) == 300
    assert main([*base, "--symbols", "IBM,MSFT"]) == 0  # nothing new: nothing to do
    assert "already handed to the WAP" in capsys.readouterr().out
