"""Hostile networks and settings against the real ingestion code: a refused or unreachable
server, a server that hangs up, drips its body, sends a huge body or a gzip bomb, drops the
connection mid-body; URLs and keys that cannot work. Each case asserts what a user sees: the
exception or exit code and its message, the quota recorded in the lake's state, and what
landed in raw/ versus rejected/ with which reason.

Everything runs on 127.0.0.1 with small deadlines and caps; backoff sleeps go to a hand-moved
clock, so the whole file takes seconds."""
from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import tracemalloc

import pytest

from glue_jobs.adapters.local.storage import LocalStorage
from glue_jobs.lake import layout
from glue_jobs.lake.errors import ConfigError
from ingestion.alphavantage.api_key import clear_cache, resolve_api_key
from ingestion.alphavantage.client import AlphaVantageClient
from ingestion.rate_limit import RatePlanner, utc_day
from ingestion.run_ingest import ingest
from ingestion.sources import build_source
from ingestion.state import load_state
from tests.support.alphavantage_server import FakeAlphaVantage, gzip_of_zeros
from tests.support.clock import FakeClock

AS_OF = dt.date(2026, 11, 20)
KEY = "HOSTILEKEY7Q2W8E"


@pytest.fixture(autouse=True)
def _fresh_keys():
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def lake(tmp_path) -> LocalStorage:
    return LocalStorage(tmp_path / "lake")


@pytest.fixture
def server(clock):
    """Factory: server(**settings) starts a FakeAlphaVantage (stopped after the test)."""
    started = []

    def start(**settings) -> FakeAlphaVantage:
        settings.setdefault("clock", clock.now)
        settings.setdefault("api_key", KEY)
        fake = FakeAlphaVantage(**settings).start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()


def closed_port_url() -> str:
    with socket.socket() as probe:  # bound, never listening: connections are refused
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/query"


def source_for(url, clock, *, env=None, key=KEY, **kw):
    return build_source("alphavantage", env=env or {}, api_key=key, base_url=url, sleep=clock.sleep,
                        clock=clock.now, **kw)


def run(lake, source, clock, symbols, run_id="r1", planner=None, **kw):
    return ingest(lake, run_id=run_id, as_of=AS_OF, symbols=symbols, source=source,
                  planner=planner or RatePlanner(None, 25, 0.0), sleep=clock.sleep, clock=clock.now, **kw)


def quota_used(lake, clock) -> int:
    return load_state(lake).calls_on("alphavantage", utc_day(clock.now()))


def reasons(lake) -> list[dict]:
    keys = [k for k in lake.list_keys(layout.REJECTED_PREFIX) if k.rsplit("/", 1)[1].startswith("reason")]
    return [json.loads(lake.get_bytes(k)) for k in sorted(keys)]


def raw_keys(lake) -> list[str]:
    return lake.list_keys(layout.RAW_PREFIX)


# -- only answered requests are charged ----------------------------------------------------------


def test_a_refused_connection_spends_no_quota_and_stops_the_run_early(lake, clock):
    result = run(lake, source_for(closed_port_url(), clock), clock, ["A", "B", "C", "D"])
    assert result.status == "nothing_fetched" and result.stop_reason == "unreachable"
    assert result.carried == ["A", "B", "C", "D"]
    assert result.counts["api_calls"] == 0 and result.counts["requests_unanswered"] == 8  # 2 symbols x 4 attempts
    assert quota_used(lake, clock) == 0
    assert "could not be reached" in result.problems[0] and "ALPHAVANTAGE_BASE_URL" in result.problems[0]
    assert "No quota was spent" in result.problems[0]
    assert raw_keys(lake) == [] and reasons(lake)[0]["kind"] == "server_error"


def test_the_same_day_run_with_the_server_back_fetches_everything(lake, clock, server):
    run(lake, source_for(closed_port_url(), clock), clock, ["A", "B", "C"])
    assert quota_used(lake, clock) == 0
    fake = server()
    again = run(lake, source_for(fake.base_url, clock), clock, [], run_id="r2",
                planner=RatePlanner(None, 3, 0.0))  # a key with exactly 3 calls left today
    assert again.status == "ok" and list(again.symbols) == ["A", "B", "C"]
    assert quota_used(lake, clock) == 3 and load_state(lake).carried_symbols() == []


def test_a_hang_up_without_answer_is_retried_and_not_charged(lake, clock, server):
    fake = server(failures={"A": ["hangup"] * 4})
    result = run(lake, source_for(fake.base_url, clock), clock, ["A", "B"])
    assert result.status == "partial" and result.carried == ["A"] and result.stop_reason is None
    assert len(fake.calls_for("A")) == 4 and quota_used(lake, clock) == 1  # B's answer only
    assert "server_error after 4 attempts" in result.problems[0]
    assert "RemoteDisconnected" in result.problems[0] and "ALPHAVANTAGE_BASE_URL" in result.problems[0]


def test_an_answer_slower_than_the_deadline_before_its_headers_is_retried_uncharged(lake, clock, server):
    fake = server(failures={"A": ["slow_headers"]}, slow_headers_s=1.0)
    env = {"TICKERLAKE_FETCH_DEADLINE_S": "0.3"}
    result = run(lake, source_for(fake.base_url, clock, env=env), clock, ["A"])
    assert result.status == "ok" and result.symbols["A"].attempts == 2
    assert quota_used(lake, clock) == 1  # the timed-out attempt got no answer


def test_charging_an_unanswered_call_would_show_in_the_state(lake, clock, server):
    fake = server(failures={"A": ["hangup"]})
    result = run(lake, source_for(fake.base_url, clock), clock, ["A"])
    assert result.status == "ok" and len(fake.calls) == 2
    assert result.counts["api_calls"] == 1 and quota_used(lake, clock) == 1


# -- a base URL that cannot be a URL ---------------------------------------------------------------


@pytest.mark.parametrize("url", ["not a url", "ftp://www.alphavantage.co/query", "http:///query", "https://",
                                 "www.alphavantage.co/query", "http://[::1/query"])
def test_a_base_url_that_cannot_be_one_is_a_config_error_before_any_call(url, clock):
    with pytest.raises(ConfigError, match="ALPHAVANTAGE_BASE_URL .* is not an http\\(s\\) URL with a host"):
        build_source("alphavantage", env={"ALPHAVANTAGE_BASE_URL": url}, api_key=KEY, sleep=clock.sleep)


def test_the_base_url_error_never_shows_a_key_written_into_it():
    with pytest.raises(ConfigError) as caught:
        build_source("alphavantage", env={"ALPHAVANTAGE_BASE_URL": f"ftp://h/query?apikey={KEY}"}, api_key=KEY)
    assert KEY not in str(caught.value) and "apikey=***" in str(caught.value)


def test_cli_ingest_with_a_bad_base_url_exits_2_and_calls_nothing(tmp_path, monkeypatch, capsys):
    from workflows.cli.main import main

    monkeypatch.setenv("ALPHAVANTAGE_API_KEY", KEY)
    monkeypatch.setenv("ALPHAVANTAGE_BASE_URL", "ftp://example.com/query")
    code = main(["ingest", "--lake", str(tmp_path / "lake"), "--source", "alphavantage", "--symbols", "IBM",
                 "--date", AS_OF.isoformat()])
    assert code == 2
    err = capsys.readouterr().err
    assert "configuration error" in err and "ALPHAVANTAGE_BASE_URL" in err and KEY not in err
    assert not (tmp_path / "lake" / "raw").exists() and not (tmp_path / "lake" / "rejected").exists()


def test_cli_ingest_with_nothing_fetched_exits_4(tmp_path, monkeypatch, capsys):
    from workflows.cli.main import main

    monkeypatch.setattr(AlphaVantageClient, "backoff_s", lambda self, attempt: 0.0)
    monkeypatch.setenv("ALPHAVANTAGE_API_KEY", KEY)
    monkeypatch.setenv("ALPHAVANTAGE_BASE_URL", closed_port_url())
    monkeypatch.setenv("TICKERLAKE_MIN_INTERVAL_S", "0")
    code = main(["ingest", "--lake", str(tmp_path / "lake"), "--source", "alphavantage", "--symbols", "IBM,AAPL",
                 "--date", AS_OF.isoformat()])
    assert code == 4
    err = capsys.readouterr().err
    assert "nothing usable was fetched" in err and "could not be reached" in err


# -- deadlines -----------------------------------------------------------------------------------


def test_a_dripping_body_is_cut_at_the_deadline_kept_and_the_symbol_carried(lake, clock, server):
    fake = server(failures={"A": ["drip"]}, drip_interval_s=0.02)
    env = {"TICKERLAKE_FETCH_DEADLINE_S": "0.5"}
    result = run(lake, source_for(fake.base_url, clock, env=env), clock, ["A", "B"])
    assert fake.wire_ended("drip") == "client", "the client waited for the whole dripping body"
    assert result.status == "partial" and result.carried == ["A"] and result.symbols["B"].status == "fetched"
    [reason] = reasons(lake)
    assert reason["kind"] == "deadline" and "TICKERLAKE_FETCH_DEADLINE_S" in reason["message"]
    assert "carried to the next run" in reason["message"]
    kept = lake.get_bytes(reason["body_key"])
    full = fake.data_body("A")
    assert 0 < len(kept) < len(full) and full.startswith(kept)  # what came, as it came
    assert quota_used(lake, clock) == 2  # the dripping answer was an answer: Alpha Vantage counted it
    assert load_state(lake).carried[0].reason == "deadline"
    assert "A: deadline after 1 attempts" in result.problems[0]


def test_a_full_answer_has_its_own_deadline(lake, clock, server):
    fake = server(failures={"A": ["drip"]}, drip_interval_s=0.02, premium_full=False)
    env = {"TICKERLAKE_FETCH_DEADLINE_S": "30", "TICKERLAKE_FETCH_DEADLINE_FULL_S": "0.4"}
    result = run(lake, source_for(fake.base_url, clock, env=env), clock, ["A"], start=dt.date(2006, 1, 1))
    assert fake.wire_ended("drip") == "client", "the client waited for the whole dripping body"
    assert result.symbols["A"].kind == "deadline"
    assert "TICKERLAKE_FETCH_DEADLINE_FULL_S" in reasons(lake)[0]["message"]


def test_the_deadline_holds_with_a_long_per_read_timeout(clock, server):
    # requests' timeout is per read: 30 s per byte would be for ever; the deadline is overall
    fake = server(failures={"A": ["drip"]}, drip_interval_s=0.05)
    from ingestion.alphavantage.api_key import ApiKey

    client = AlphaVantageClient(ApiKey(KEY), base_url=fake.base_url, timeout_s=30, sleep=clock.sleep,
                                deadline_s={"compact": 0.3})
    response = client.get_daily("A")
    assert fake.wire_ended("drip") == "client", "the client waited for the whole dripping body"
    assert response.cut == "deadline" and response.status == 200 and response.attempts == 1
    assert 0 < len(response.body) < len(fake.data_body("A"))


# -- size caps -----------------------------------------------------------------------------------


def test_a_huge_answer_is_cut_at_the_cap_in_bounded_memory(lake, clock, server):
    fake = server(failures={"A": ["huge"]}, huge_bytes=32 * 1024 * 1024)
    env = {"TICKERLAKE_FETCH_MAX_BYTES": str(256 * 1024)}
    source = source_for(fake.base_url, clock, env=env)
    tracemalloc.start()
    try:
        result = run(lake, source, clock, ["A", "B"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024, f"peak {peak} bytes for a 32 MiB answer"
    assert result.carried == ["A"] and result.symbols["B"].status == "fetched"
    [reason] = reasons(lake)
    assert reason["kind"] == "too_large" and reason["bytes"] == 256 * 1024
    assert "cut at the cap" in reason["message"] and "TICKERLAKE_FETCH_MAX_BYTES" in reason["message"]
    assert len(lake.get_bytes(reason["body_key"])) == 256 * 1024
    assert not any("symbol=A/" in k for k in raw_keys(lake))


def test_a_gzip_bomb_is_cut_on_its_inflated_size(lake, clock, server):
    fake = server(failures={"A": ["gzip_bomb"]}, huge_bytes=20 * 1024 * 1024)
    wire = gzip_of_zeros(fake.huge_bytes)  # built before measuring: the server's memory is not ours
    assert len(wire) < 64 * 1024
    env = {"TICKERLAKE_FETCH_MAX_BYTES": str(1024 * 1024)}
    tracemalloc.start()
    try:
        result = run(lake, source_for(fake.base_url, clock, env=env), clock, ["A"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.symbols["A"].kind == "too_large" and peak < 6 * 1024 * 1024
    assert reasons(lake)[0]["bytes"] == 1024 * 1024


def test_a_full_answer_has_its_own_cap(lake, clock, server):
    fake = server(premium_full=False)
    env = {"TICKERLAKE_FETCH_MAX_BYTES": "100", "TICKERLAKE_FETCH_MAX_BYTES_FULL": str(64 * 1024 * 1024)}
    result = run(lake, source_for(fake.base_url, clock, env=env), clock, ["A"], start=dt.date(2006, 1, 1))
    assert result.status == "ok" and result.counts["raw_rows"] > 5000  # the compact cap does not apply


# -- a connection lost mid-body ----------------------------------------------------------------


def test_a_connection_dropped_mid_body_is_kept_retried_then_carried(lake, clock, server):
    fake = server(failures={"A": ["reset"] * 3})
    result = run(lake, source_for(fake.base_url, clock), clock, ["A"])
    assert result.carried == ["A"] and result.symbols["A"].kind == "truncated"
    kept = reasons(lake)
    assert [r["kind"] for r in kept] == ["truncated"] * 3 and "connection lost" in kept[0]["message"]
    half = len(fake.data_body("A")) // 2
    assert all(r["bytes"] == half for r in kept)
    assert quota_used(lake, clock) == 3  # each got an answer, even if cut


# -- the key -------------------------------------------------------------------------------------


def test_a_data_body_containing_the_key_lands_byte_exact(lake, clock, server):
    odd_key = "2026-11-20"  # a (made-up) key that is also a date in every body
    fake = server(api_key=odd_key, daily_limit=1)
    result = run(lake, source_for(fake.base_url, clock, key=odd_key), clock, ["A", "B"])
    record = result.symbols["A"]
    assert lake.get_bytes(record.raw_key) == fake.data_body("A")  # not masked inside the prices
    assert odd_key.encode() in lake.get_bytes(record.raw_key)
    [cap] = reasons(lake)  # the daily-cap body echoes the key: there it is masked
    assert cap["kind"] == "daily_cap" and cap["redacted"] is True
    assert odd_key.encode() not in lake.get_bytes(cap["body_key"]) and odd_key not in cap["url"]


@pytest.mark.parametrize("key", ["abc", "SHORT7K", "  demo  "])
def test_a_key_too_short_to_mask_is_refused_naming_the_setting(key):
    with pytest.raises(ConfigError, match="ALPHAVANTAGE_API_KEY is shorter than 8 characters") as caught:
        resolve_api_key({"ALPHAVANTAGE_API_KEY": key})
    assert key.strip() not in str(caught.value).replace("ALPHAVANTAGE", "")


def test_a_short_key_in_secrets_manager_names_the_secret():
    class Secrets:
        def get_secret_value(self, SecretId):  # noqa: N803 (boto3's name)
            return {"SecretString": json.dumps({"apikey": "Q1W2E"})}

    with pytest.raises(ConfigError, match="secret 'av' \\(ALPHAVANTAGE_SECRET_ID\\) is shorter") as caught:
        resolve_api_key({"ALPHAVANTAGE_SECRET_ID": "av"}, secrets_client=Secrets())
    assert "Q1W2E" not in str(caught.value)


# -- the settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, value", [
    ("TICKERLAKE_FETCH_DEADLINE_S", "soon"), ("TICKERLAKE_FETCH_DEADLINE_S", "0"),
    ("TICKERLAKE_FETCH_DEADLINE_FULL_S", "-5"), ("TICKERLAKE_FETCH_DEADLINE_S", "nan"),
    ("TICKERLAKE_FETCH_MAX_BYTES", "1.5"), ("TICKERLAKE_FETCH_MAX_BYTES_FULL", "inf"),
])
def test_a_bad_limit_setting_is_a_config_error_naming_it(name, value):
    with pytest.raises(ConfigError, match=f"{name} must be a positive"):
        build_source("alphavantage", env={name: value}, api_key=KEY)


# -- waits say what for and until when -------------------------------------------------------------


def test_a_rate_limit_wait_is_announced_with_its_end(lake, clock, server, caplog):
    caplog.set_level(logging.INFO)
    fake = server(per_minute=1)
    seen = []
    result = run(lake, source_for(fake.base_url, clock), clock, ["A", "B"], planner=RatePlanner(10, None, 0.0),
                 progress=lambda *a: seen.append(a))
    assert result.status == "ok"
    waits = [a for a in seen if a[3].startswith("waiting")]
    assert waits and waits[0][:3] == (2, 2, "B")
    assert "waiting 60 s for Alpha Vantage's rate limit" in waits[0][3] and " until " in waits[0][3]
    assert waits[0][3].endswith("UTC") and "waiting 60 s" in caplog.text


def test_the_planners_own_window_wait_is_announced_and_short_gaps_are_not(lake, clock, server):
    fake = server()
    seen = []
    run(lake, source_for(fake.base_url, clock), clock, ["A", "B", "C"], planner=RatePlanner(2, None, 1.2),
        progress=lambda *a: seen.append(a))
    waits = [a[3] for a in seen if a[3].startswith("waiting")]
    assert len(waits) == 1 and "per-minute allowance (2 calls a minute)" in waits[0]  # C waits ~58 s; B's 1.2 s is quiet
    assert [a[3] for a in seen if not a[3].startswith("waiting")] == ["fetched"] * 3


def test_a_client_backoff_says_when_it_retries(clock, server, caplog):
    caplog.set_level(logging.WARNING)
    fake = server(failures={"A": ["html502"]})
    from ingestion.alphavantage.api_key import ApiKey

    client = AlphaVantageClient(ApiKey(KEY), base_url=fake.base_url, sleep=clock.sleep, jitter=lambda: 1.0,
                                backoff_base_s=4)
    assert client.get_daily("A").status == 200
    assert "A: retrying in 4 s (at " in caplog.text and "UTC)" in caplog.text
