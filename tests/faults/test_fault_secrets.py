"""The Alpha Vantage key appears nowhere: full runs against the fake Alpha Vantage with a
recognisable key, --verbose, a daily-cap answer that echoes the key, a bad key, an unreachable
server and a malformed URL; every line on stdout and stderr, every log record (DEBUG, urllib3
included), every exception text and every file in the lake (Parquet read decoded) is searched."""
from __future__ import annotations

import datetime as dt
import logging
import socket
import time
import traceback
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.faults import lakes
from tests.support.alphavantage_server import FakeAlphaVantage

KEY = "SECRETKEY-9f3a1c"
BAD_KEY = "SECRETKEY-bad-5e72d0"  # a key the server refuses: it must not leak either
SECRETS = (KEY, BAD_KEY)
DAY = dt.date(2024, 3, 8)
SYMBOLS = "IBM,AAPL,MSFT,NVDA,XOM"


def _argv(lake: Path, *extra: str) -> list[str]:
    return ["run", "--lake", str(lake), "--source", "alphavantage", "--symbols", SYMBOLS,
            "--date", DAY.isoformat(), "--verbose", *extra]


def _env(base_url: str, key: str) -> dict[str, str]:
    return lakes.clean_env(ALPHAVANTAGE_BASE_URL=base_url, ALPHAVANTAGE_API_KEY=key,
                           TICKERLAKE_MIN_INTERVAL_S="0", TICKERLAKE_CALLS_PER_MINUTE="1000")


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def lake_leaks(lake: Path) -> tuple[list[str], int]:
    """(files holding a secret, files searched). Parquet is compressed, so it is read decoded."""
    found, searched = [], 0
    for path in sorted(p for p in lake.rglob("*") if p.is_file()):
        searched += 1
        data = path.read_bytes()
        texts = [data.decode("utf-8", errors="replace")]
        if data[:4] == b"PAR1":
            texts.append(repr(pq.read_table(path).to_pylist()))
            texts.append(repr(pq.read_metadata(path).metadata))
        if any(_leaks(t) for t in texts):
            found.append(str(path.relative_to(lake)))
    return found, searched


def test_full_runs_with_a_key_echoing_daily_cap_and_a_bad_key_leak_it_nowhere(tmp_path):
    lake = tmp_path / "lake"
    with FakeAlphaVantage(api_key=KEY, as_of=DAY, daily_limit=3) as server:
        # 1: three symbols fetched, then the daily cap, whose text names the key; JSON bodies,
        # so the landing's JSON path and its CSV rendering are covered too; the dashboard is rendered
        first = lakes.run_process(_argv(lake, "--datatype", "json"), env=_env(server.base_url, KEY))
        # 2: the same day again: the carried symbols meet the cap again; nothing new to publish
        second = lakes.run_process(_argv(lake, "--no-dashboard"), env=_env(server.base_url, KEY))
        # 3: a key the server does not know
        third = lakes.run_process(_argv(lake, "--no-dashboard"), env=_env(server.base_url, BAD_KEY))
        echoed = [c for c in server.calls if c.kind == "daily_cap" and KEY.encode() in c.body]
    assert echoed, "the fake's daily-cap answer echoed the key (or this test proves nothing)"
    assert first.returncode == 0, first.stderr[-3000:]
    assert "daily" in first.stderr.lower() and " INFO " in first.stderr  # --verbose logged, the cap was met
    assert second.returncode in (0, 4) and third.returncode == 4, (second.stderr[-2000:], third.stderr[-2000:])
    assert "key" in third.stderr.lower()  # the bad key is reported, by name of the setting, not by value

    for n, proc in enumerate((first, second, third), start=1):
        assert not _leaks(proc.stdout + proc.stderr), f"run {n} printed a key:\n{proc.stderr[-3000:]}"
    found, searched = lake_leaks(lake)
    assert not found, f"the key is in {found}"
    kinds = {p.relative_to(lake).parts[0] for p in lake.rglob("*") if p.is_file()}
    # every zone the runs write was searched: raw and rejected bodies, manifests, state, run
    # logs, catalog, published Parquet (prices, quarantine, ledger), alerts and the dashboard
    assert {"raw", "rejected", "manifests", "state", "runs", "catalog", "warehouse", "dashboard"} <= kinds, kinds
    assert list(lake.rglob("rejected/**/reason*.json")) and list(lake.rglob("pipeline_runs/**/*.parquet"))
    lakes.record_matrix_row("secrets", {"order": 0, "fault": "full runs: daily cap echoing the key, bad key",
                                        "what happened": f"key in none of {searched} files, 3 runs' output"})


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("base_url", [
    pytest.param(lambda: f"http://127.0.0.1:{_closed_port()}/query", id="unreachable"),
    pytest.param(lambda: "http://127.0.0.1:notaport/query", id="malformed-url"),
])
def test_transport_errors_and_exceptions_leak_the_key_nowhere(base_url, tmp_path, monkeypatch, caplog):

    lake = tmp_path / "lake"
    for name, value in _env(base_url(), KEY).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(time, "sleep", lambda s: None)  # the client's backoff between attempts
    caplog.set_level(logging.DEBUG)  # more than --verbose: urllib3 logs request URLs at DEBUG
    raised = ""
    try:
        code, out, err = lakes.run_in_process(_argv(lake, "--no-dashboard"))
    except BaseException as exc:  # --verbose re-raises the unexpected: its text must be clean too
        code, out, err = -1, "", ""
        raised = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    logged = "\n".join(formatter.format(r) for r in caplog.records)
    assert code == 4, (code, err[-2000:], raised[-2000:])  # nothing fetched: every symbol carried
    assert "attempt" in logged and "failed" in err  # the failures were logged and reported
    assert not _leaks(out + err), err[-3000:]
    assert not _leaks(logged), [r.getMessage() for r in caplog.records if _leaks(r.getMessage())][:3]
    assert not _leaks(raised)
    found, _ = lake_leaks(lake)
    assert not found, f"the key is in {found}"
