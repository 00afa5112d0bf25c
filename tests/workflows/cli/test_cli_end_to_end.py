"""The CLI as a user drives it: `tickerlake run` on a temporary lake, then reads."""
from __future__ import annotations

import hashlib
import json

import pytest

from glue_jobs.runtime import build_local
from workflows.cli.main import main

DAY = "2026-11-20"
SYMBOLS = "AAPL,MSFT,IBM"


def published_checksum(lake) -> tuple[int, str]:
    _, _, engine, _ = build_local(lake)
    rows = engine.query(
        "select symbol, trade_date, open, high, low, close, volume from stocks.daily_prices "
        "order by symbol, trade_date"
    ).to_pylist()
    return len(rows), hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


def run_log(lake, capsys) -> dict:
    assert main(["runs", "--lake", str(lake), "--format", "json", "--limit", "1"]) == 0
    return json.loads(capsys.readouterr().out)[0]


def test_run_twice_gives_an_identical_published_table(tmp_path, capsys):
    lake = tmp_path / "lake"
    args = ["run", "--lake", str(lake), "--symbols", SYMBOLS, "--date", DAY, "--no-dashboard"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "raw rows 300 = published 300 + unchanged 0 + quarantined 0 + duplicates dropped 0" in out
    first = published_checksum(lake)
    assert first[0] == 300

    assert main(args) == 0
    out = capsys.readouterr().out
    # the same bars again: recognised as published before the audit, no partition touched
    assert "raw rows 300 = published 0 + unchanged 300 + quarantined 0 + duplicates dropped 0" in out
    assert "0 partition(s) written, 0 unchanged" in out
    assert published_checksum(lake) == first


def test_injected_bad_rows_are_quarantined_with_reasons_and_counts_reconcile(tmp_path, capsys):
    lake = tmp_path / "lake"
    code = main(["run", "--lake", str(lake), "--symbols", "AAPL,MSFT,IBM,JPM,XOM,V,META,NVDA,AMZN,GOOGL",
                 "--date", DAY, "--faults", "bad_rows:AAPL,duplicates:MSFT", "--no-dashboard"])
    assert code == 0
    capsys.readouterr()
    summary = run_log(lake, capsys)
    assert summary["reconciled"] is True
    assert summary["raw_rows"] == summary["published_rows"] + summary["quarantined_rows"] + summary["duplicates_dropped"]
    assert summary["duplicates_dropped"] >= 1
    assert main(["query", "--lake", str(lake), "--format", "json",
                 "select symbol, rule, reason from stocks.daily_prices_quarantine order by reason"]) == 0
    quarantined = json.loads(capsys.readouterr().out)
    assert len(quarantined) == summary["quarantined_rows"] >= 8
    reasons = " | ".join(r["reason"] for r in quarantined)
    assert {r["symbol"] for r in quarantined} >= {"AAPL"}
    for expected in ("not above zero", "NaN", "1,234"):
        assert expected in reasons
    # every reason names its symbol and a date
    assert all(r["reason"].startswith(r["symbol"] + " ") for r in quarantined)


def test_exit_codes_say_what_happened(tmp_path, capsys, monkeypatch):
    lake = tmp_path / "lake"
    assert main(["run", "--lake", str(lake), "--date", "2026-11-22"]) == 2
    assert "not an NYSE session" in capsys.readouterr().err

    # every symbol refused by the source: nothing usable fetched
    monkeypatch.setenv("ALPHAVANTAGE_BASE_URL", "http://127.0.0.1:9/query")
    monkeypatch.delenv("ALPHAVANTAGE_API_KEY", raising=False)
    monkeypatch.delenv("ALPHAVANTAGE_SECRET_ID", raising=False)
    assert main(["run", "--lake", str(lake), "--source", "alphavantage", "--date", DAY]) == 2
    assert "ALPHAVANTAGE_API_KEY" in capsys.readouterr().err

    # a quarantine share far above the threshold blocks the publish: exit 3, prod untouched
    assert main(["run", "--lake", str(lake), "--symbols", "IBM", "--date", "2026-11-19", "--no-dashboard"]) == 0
    before = published_checksum(lake)
    capsys.readouterr()
    monkeypatch.setenv("TICKERLAKE_AUDIT_MAX_QUARANTINE_SHARE", "0.01")
    code = main(["run", "--lake", str(lake), "--symbols", "IBM", "--date", DAY, "--faults", "bad_rows:IBM",
                 "--no-dashboard"])
    assert code == 3
    assert published_checksum(lake) == before


def test_query_reads_views_and_rejects_bad_sql_with_exit_2(tmp_path, capsys):
    lake = tmp_path / "lake"
    assert main(["run", "--lake", str(lake), "--symbols", "IBM", "--date", DAY, "--no-dashboard"]) == 0
    capsys.readouterr()
    assert main(["query", "--lake", str(lake), "--format", "csv",
                 "select count(*) as n from stocks.daily_returns where symbol = 'IBM'"]) == 0
    assert capsys.readouterr().out.splitlines() == ["n", "100"]
    assert main(["query", "--lake", str(lake), "select * from stocks.nope"]) == 2
    err = capsys.readouterr().err
    assert "stocks.daily_prices" in err and "nope" in err


def test_commands_on_a_missing_lake_say_how_to_make_one(tmp_path, capsys):
    assert main(["query", "--lake", str(tmp_path / "none"), "select 1"]) == 2
    assert "run `tickerlake run` first" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["bogus"], ["run", "--source", "yahoo"], ["query"]])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2


def test_nothing_usable_fetched_exits_4_and_keeps_what_came_back(tmp_path, capsys, monkeypatch):
    from tests.support.alphavantage_server import FakeAlphaVantage

    lake = tmp_path / "lake"
    with FakeAlphaVantage(invalid_symbols=["NOPE", "ZZZZ"]) as server:
        monkeypatch.setenv("ALPHAVANTAGE_BASE_URL", server.base_url)
        monkeypatch.setenv("ALPHAVANTAGE_API_KEY", server.api_key)
        monkeypatch.setenv("TICKERLAKE_MIN_INTERVAL_S", "0")
        code = main(["run", "--lake", str(lake), "--source", "alphavantage", "--symbols", "NOPE,ZZZZ",
                     "--date", DAY, "--no-dashboard"])
    assert code == 4
    err = capsys.readouterr().err
    assert "nothing usable was fetched" in err
    assert "NOPE: not a symbol Alpha Vantage knows" in err
    rejected = sorted(p.relative_to(lake).as_posix() for p in (lake / "rejected").rglob("*") if p.is_file())
    assert len([p for p in rejected if p.endswith("reason.json")]) == 2


def test_ingest_crawl_wap_step_by_step_and_wap_before_crawl_is_refused(tmp_path, capsys):
    lake = str(tmp_path / "lake")
    common = ["--lake", lake]
    assert main(["ingest", *common, "--symbols", "IBM,AAPL", "--date", DAY]) == 0
    assert main(["wap", *common, "--date", DAY]) == 2
    assert "not crawled yet" in capsys.readouterr().err
    assert main(["crawl", *common]) == 0
    assert main(["wap", *common, "--date", DAY]) == 0
    assert "raw rows 200 = published 200 + unchanged 0 + quarantined 0 + duplicates dropped 0" in capsys.readouterr().out
