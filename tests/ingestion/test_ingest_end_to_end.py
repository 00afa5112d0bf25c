"""The ingest stage against the fake Alpha Vantage, into a lake in a temporary directory."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time

import pytest

from glue_jobs.lake import layout
from ingestion.alphavantage.parse import parse_csv, parse_json
from ingestion.rate_limit import RatePlanner
from ingestion.run_ingest import ingest
from ingestion.sources import build_planner, build_source
from ingestion.state import load_state
from tests.support.recorded import lake_files

AS_OF = dt.date(2026, 11, 20)
DAY = 86_400.0


@pytest.fixture(autouse=True)
def _capture_everything(caplog):
    caplog.set_level(logging.DEBUG)  # urllib3 logs request URLs at DEBUG: they must be masked too


def av_source(server, clock, **kw):
    kw.setdefault("api_key", server.api_key)
    return build_source("alphavantage", env={}, base_url=server.base_url, sleep=clock.sleep, clock=clock.now, **kw)


def run(lake, source, clock, symbols, planner=None, run_id="r1", **kw):
    planner = planner or RatePlanner(5, 25, 1.2)
    return ingest(
        lake, run_id=run_id, as_of=AS_OF, symbols=symbols, source=source, planner=planner,
        sleep=clock.sleep, clock=clock.now, **kw,
    )


def manifest(lake, result):
    return json.loads(lake.get_bytes(result.manifest_key))


def assert_key_nowhere(lake, caplog, key):
    for name, data in lake_files(lake).items():
        assert key not in name and key.encode() not in data, f"the API key leaked into {name}"
    assert key not in caplog.text


def test_a_clean_run_lands_exactly_what_the_server_sent(lake, fake_av, clock, caplog):
    server = fake_av()
    result = run(lake, av_source(server, clock), clock, ["AAPL", "msft", "IBM"])
    assert result.status == "ok" and result.problems == []
    assert result.counts == {
        "symbols_planned": 3, "symbols_fetched": 3, "symbols_failed": 0, "symbols_carried": 0,
        "symbols_rejected": 0, "raw_objects": 3, "raw_rows": 300, "rejected_objects": 0, "api_calls": 3,
        "requests_unanswered": 0,
    }
    for call in server.calls:
        assert lake.get_bytes(layout.raw_key("2026-11-20", call.symbol, "r1")) == call.body
    doc = manifest(lake, result)
    assert doc["status"] == "ok" and doc["plan"] == ["AAPL", "MSFT", "IBM"]
    for entry in doc["symbols"].values():
        assert entry["status"] == "fetched" and entry["rows"] == 100 and entry["attempts"] == 1
        assert entry["sha256"] == hashlib.sha256(lake.get_bytes(entry["raw_key"])).hexdigest()
        assert entry["last_refreshed"] == "2026-11-20"
    gaps = [b.at - a.at for a, b in zip(server.calls, server.calls[1:])]
    assert min(gaps) >= 1.2 and server.limit_bodies == 0
    assert_key_nowhere(lake, caplog, server.api_key)


def test_bad_answers_are_kept_with_reasons_and_an_unknown_symbol_fails_alone(lake, fake_av, clock, caplog):
    server = fake_av(invalid_symbols=["NOPE"], failures={"IBM": ["html502", "html502"], "MSFT": ["truncated"]})
    result = run(lake, av_source(server, clock), clock, ["AAPL", "NOPE", "IBM", "MSFT"])
    assert result.status == "partial"
    assert {s: r.status for s, r in result.symbols.items()} == {
        "AAPL": "fetched", "NOPE": "failed", "IBM": "fetched", "MSFT": "fetched"}
    assert result.counts["symbols_rejected"] == 3 and result.counts["rejected_objects"] == 4
    assert len(result.problems) == 1 and result.problems[0].startswith("NOPE: not a symbol")
    reasons = {
        key: json.loads(lake.get_bytes(key)) for key in lake.list_keys(layout.REJECTED_PREFIX)
        if key.rsplit("/", 1)[1].startswith("reason")
    }
    assert sorted((r["symbol"], r["kind"]) for r in reasons.values()) == [
        ("IBM", "server_error"), ("IBM", "server_error"), ("MSFT", "truncated"), ("NOPE", "invalid_symbol")]
    for reason in reasons.values():
        body = lake.get_bytes(reason["body_key"])
        assert hashlib.sha256(body).hexdigest() == reason["sha256"]
    sent = [c.body for c in server.calls_for("IBM")]
    kept = [lake.get_bytes(k) for k in result.symbols["IBM"].rejected_keys]
    assert kept == sent[:2] and result.symbols["IBM"].attempts == 3
    assert_key_nowhere(lake, caplog, server.api_key)


def test_a_daily_cap_stops_the_run_and_the_next_run_fetches_the_rest_first(lake, fake_av, clock, caplog):
    server = fake_av(daily_limit=3)
    source = av_source(server, clock)
    first = run(lake, source, clock, ["A", "B", "C", "D", "E"])
    assert first.status == "partial" and first.stop_reason == "daily_cap"
    assert first.carried == ["D", "E"] and len(server.calls) == 4  # nothing called after the cap
    assert "2 symbols carried to the next run" in first.problems[0]
    doc = manifest(lake, first)
    assert doc["carried"] == [{"symbol": "D", "reason": "daily_cap"}, {"symbol": "E", "reason": "daily_cap"}]
    assert doc["symbols"]["E"]["attempts"] == 0
    assert load_state(lake).carried_symbols() == ["D", "E"]

    # later the same day: the state says the quota is gone, so no call is wasted on a refusal
    again = run(lake, source, clock, ["F"], run_id="r1b")
    assert again.status == "nothing_fetched" and again.carried == ["D", "E", "F"] and len(server.calls) == 4

    clock.advance(DAY)  # the quota resets
    second = run(lake, source, clock, ["F", "d"], run_id="r2")
    assert second.status == "ok" and list(second.symbols) == ["D", "E", "F"]
    assert load_state(lake).carried_symbols() == []
    assert_key_nowhere(lake, caplog, server.api_key)


def test_the_planner_stops_at_its_own_count_without_calling(lake, fake_av, clock):
    server = fake_av()
    first = run(lake, av_source(server, clock), clock, ["A", "B", "C"], planner=RatePlanner(5, 2, 0.0))
    assert first.stop_reason == "quota_spent" and first.carried == ["C"] and len(server.calls) == 2
    # a second run on the same day knows from the lake's state that the quota is gone
    second = run(lake, av_source(server, clock), clock, ["D"], planner=RatePlanner(5, 2, 0.0), run_id="r2")
    assert second.status == "nothing_fetched" and second.carried == ["C", "D"] and len(server.calls) == 2


def test_a_per_minute_limit_answer_backs_off_and_retries_the_same_symbol(lake, fake_av, clock):
    server = fake_av(per_minute=2)
    result = run(lake, av_source(server, clock), clock, ["A", "B", "C", "D"], planner=RatePlanner(10, None, 0.0))
    assert result.status == "ok"
    assert server.limit_bodies >= 1 and clock.slept >= 60
    assert result.counts["symbols_rejected"] >= 1
    limited = [s for s, r in result.symbols.items() if r.rejected_keys]
    assert all(result.symbols[s].attempts >= 2 for s in limited)


def test_a_planner_set_to_the_key_limits_gets_no_limit_answer(lake, fake_av, clock):
    server = fake_av(per_minute=2, min_spacing_s=1.0, daily_limit=25)
    result = run(lake, av_source(server, clock), clock, list("ABCDEF"), planner=RatePlanner(2, 25, 1.0))
    assert result.status == "ok" and server.limit_bodies == 0


def test_a_burst_answer_waits_a_few_seconds(lake, fake_av, clock):
    server = fake_av(min_spacing_s=1.0)
    result = run(lake, av_source(server, clock), clock, ["A", "B"], planner=RatePlanner(None, None, 0.0))
    assert result.status == "ok" and server.limit_bodies == 1
    assert result.symbols["B"].kind == "data" and len(result.symbols["B"].rejected_keys) == 1


def test_endless_rate_limit_answers_carry_the_symbol(lake, fake_av, clock):
    server = fake_av(failures={"IBM": ["rate_limit"] * 10})
    result = run(lake, av_source(server, clock), clock, ["IBM", "AAPL"], planner=RatePlanner(None, None, 0.0))
    assert result.status == "partial" and result.carried == ["IBM"]
    assert len(server.calls_for("IBM")) == 4  # one call and three retries
    assert "IBM: rate_limit after 4 attempts" in result.problems[0]


def test_a_refused_key_stops_the_run(lake, fake_av, clock, caplog):
    server = fake_av()
    wrong = "WRONGKEY55501234"
    result = run(lake, av_source(server, clock, api_key=wrong), clock, ["A", "B", "C"])
    assert result.status == "nothing_fetched" and result.stop_reason == "bad_key"
    assert result.carried == ["A", "B", "C"] and len(server.calls) == 1
    assert "ALPHAVANTAGE_API_KEY" in result.problems[0]
    assert_key_nowhere(lake, caplog, wrong)


def test_history_on_a_free_key_is_refused_once_not_per_symbol(lake, fake_av, clock):
    server = fake_av()
    result = run(lake, av_source(server, clock), clock, ["A", "B"], start=dt.date(2006, 1, 1))
    assert result.stop_reason == "premium" and len(server.calls) == 1
    assert server.calls[0].outputsize == "full"
    assert "without a start date" in result.problems[0]


def test_a_premium_key_gets_the_full_history(lake, fake_av, clock):
    server = fake_av(premium_full=False)
    result = run(lake, av_source(server, clock), clock, ["A"], start=dt.date(2006, 1, 1))
    assert result.status == "ok" and result.counts["raw_rows"] > 5000


def test_json_lands_as_received_with_a_csv_rendering(lake, fake_av, clock, caplog):
    server = fake_av(last_refreshed_time="13:14:34")
    result = run(lake, av_source(server, clock, datatype="json"), clock, ["IBM"])
    record = result.symbols["IBM"]
    raw_json = lake.get_bytes(record.raw_key)
    assert record.raw_key.endswith("body.json") and raw_json == server.calls[0].body
    assert parse_csv(lake.get_bytes(record.csv_key)).bars == parse_json(raw_json).bars
    assert record.forming_date == "2026-11-20" and record.last_refreshed == "2026-11-20 13:14:34"
    assert result.counts["raw_objects"] == 2 and result.counts["raw_rows"] == 100
    roles = {o["role"] for o in manifest(lake, result)["objects"]}
    assert roles == {"raw", "raw_csv_rendering"}
    assert_key_nowhere(lake, caplog, server.api_key)


def test_progress_is_reported_for_every_planned_symbol(lake, fake_av, clock):
    server = fake_av(daily_limit=1)
    seen = []
    run(lake, av_source(server, clock), clock, ["A", "B", "C"], progress=lambda *a: seen.append(a))
    assert seen == [(1, 3, "A", "fetched"), (2, 3, "B", "carried"), (3, 3, "C", "carried")]


class Exploding:
    name = "exploding"

    def __init__(self, inner):
        self.inner, self.count = inner, 0

    def fetch(self, symbol, **kw):
        self.count += 1
        if self.count == 2:
            raise RuntimeError("disk on fire")
        return self.inner.fetch(symbol, **kw)


def test_an_unexpected_error_still_records_the_run_and_carries_the_rest(lake, clock):
    source = Exploding(build_source("synthetic", clock=clock.now))
    with pytest.raises(RuntimeError, match="disk on fire"):
        run(lake, source, clock, ["A", "B", "C"], planner=build_planner("synthetic", env={}))
    keys = lake.list_keys(layout.MANIFEST_PREFIX)
    doc = json.loads(lake.get_bytes(keys[0]))
    assert doc["status"] == "aborted" and doc["symbols"]["A"]["status"] == "fetched"
    assert load_state(lake).carried_symbols() == ["B", "C"]


def test_the_synthetic_source_runs_offline_with_faults(lake, clock):
    source = build_source("synthetic", faults="bad_rows:AAPL,duplicates:MSFT", clock=clock.now)
    result = run(lake, source, clock, ["AAPL", "MSFT", "IBM"], planner=build_planner("synthetic", env={}))
    assert result.status == "ok" and result.counts["raw_rows"] == 302
    assert b"NaN" in lake.get_bytes(result.symbols["AAPL"].raw_key)


class SlowThenFailingDisk:
    """The lake's own storage, but every body's write is slow, and from one symbol on they fail
    (a full disk): the bodies are written while later symbols are fetched, so a write can end
    after the fetch loop or fail while another symbol is being fetched."""

    def __init__(self, inner, failing_symbol=None):
        self.inner, self.failing_symbol = inner, failing_symbol

    def put_bytes(self, key, data, **kw):
        if key.startswith(layout.RAW_PREFIX):
            time.sleep(0.02)
            symbol = key.split("symbol=", 1)[1].split("/", 1)[0]
            if self.failing_symbol and symbol >= self.failing_symbol:
                raise OSError(f"no space left on device writing {key}")
        self.inner.put_bytes(key, data, **kw)

    def __getattr__(self, name):
        return getattr(self.inner, name)


SYMBOLS = [f"S{i:02d}" for i in range(12)]


def test_the_manifest_is_written_after_every_body_and_lists_them_in_order(lake, clock):
    source = build_source("synthetic", clock=clock.now)
    result = run(SlowThenFailingDisk(lake), source, clock, SYMBOLS, planner=build_planner("synthetic", env={}))
    doc = manifest(lake, result)
    assert result.counts["raw_objects"] == doc["totals"]["raw_objects"] == len(SYMBOLS)
    assert [o["symbol"] for o in doc["objects"]] == SYMBOLS
    for o in doc["objects"]:
        assert hashlib.sha256(lake.get_bytes(o["key"])).hexdigest() == o["sha256"]


def test_a_body_that_fails_to_land_stops_the_run_and_its_symbol_is_carried(lake, clock):
    source = build_source("synthetic", clock=clock.now)
    with pytest.raises(OSError, match="no space left on device writing .*symbol=S03/"):
        run(SlowThenFailingDisk(lake, "S03"), source, clock, SYMBOLS, planner=build_planner("synthetic", env={}))
    doc = json.loads(lake.get_bytes(lake.list_keys(layout.MANIFEST_PREFIX)[0]))
    listed = [o["symbol"] for o in doc["objects"]]
    assert doc["status"] == "aborted" and "S03" not in listed and "S00" in listed
    for o in doc["objects"]:  # nothing listed that did not land
        assert hashlib.sha256(lake.get_bytes(o["key"])).hexdigest() == o["sha256"]
    assert doc["symbols"]["S03"]["status"] == "carried"
    carried = load_state(lake).carried_symbols()
    assert "S03" in carried and not set(carried) & set(listed)


class DiskThatCanLoseWrites:
    """The lake's own storage, plus a model of what a power cut would keep: a write made with
    durable=True is on disk when it returns, one made with durable=False only after the next
    flush. It records what was on disk when each manifest was written."""

    def __init__(self, inner):
        self.inner = inner
        self.on_disk: set[str] = set()
        self.in_cache: set[str] = set()
        self.on_disk_at_manifest: list[set[str]] = []

    def put_bytes(self, key, data, **kw):
        if key.startswith(layout.MANIFEST_PREFIX):
            self.on_disk_at_manifest.append(set(self.on_disk))
        self.inner.put_bytes(key, data, **kw)
        (self.on_disk if kw.get("durable", True) else self.in_cache).add(key)

    def flush(self):
        written, self.in_cache = self.in_cache, set()
        self.inner.flush()
        self.on_disk |= written

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.mark.parametrize("failing_symbol", [None, "S07"], ids=["clean run", "aborted run"])
def test_every_body_a_manifest_lists_was_on_disk_before_the_manifest(lake, clock, failing_symbol):
    disk = DiskThatCanLoseWrites(SlowThenFailingDisk(lake, failing_symbol))
    source = build_source("synthetic", clock=clock.now)
    try:
        run(disk, source, clock, SYMBOLS, planner=build_planner("synthetic", env={}))
    except OSError:
        assert failing_symbol
    (on_disk,) = disk.on_disk_at_manifest
    doc = json.loads(lake.get_bytes(lake.list_keys(layout.MANIFEST_PREFIX)[0]))
    listed = {o["key"] for o in doc["objects"]}
    assert len(listed) == (7 if failing_symbol else len(SYMBOLS))
    assert listed <= on_disk
    assert not disk.in_cache  # and nothing was left to the kernel's own good time


def test_a_daily_ingest_syncs_the_lake_once_not_each_body(lake, clock, monkeypatch):
    from glue_jobs.adapters.local import storage as local_storage

    fsyncs, syncs = [], []
    real_fsync, real_sync = local_storage.os.fsync, local_storage._sync_file_system
    monkeypatch.setattr(local_storage.os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd)))
    monkeypatch.setattr(local_storage, "_sync_file_system", lambda root: (syncs.append(root), real_sync(root)))
    run(lake, build_source("synthetic", clock=clock.now), clock, SYMBOLS, planner=build_planner("synthetic", env={}))
    assert syncs == [lake.root]
    assert len(fsyncs) == 2  # the manifest and the ingestion state, each on its own
