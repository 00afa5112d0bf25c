"""`tickerlake stream consume|replay|status` on a local lake, through main() as a user runs them:
the records are put on the lake's own stream log (glue_jobs/adapters/local/stream_sqlite.py),
which the commands open through the runtime."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from glue_jobs.adapters.local.stream_sqlite import SqliteStream
from glue_jobs.lake.quote_record import encode
from glue_jobs.ports.stream import shard_index, shard_name
from glue_jobs.runtime import local_stream_path
from tests.glue_jobs.intraday.quotes import OPEN_MS, quote
from workflows.cli import main as cli


@pytest.fixture
def lake(tmp_path, monkeypatch):
    path = tmp_path / "lake"
    path.mkdir()
    # arrival on the wall clock: the commands open the log with it, and it hides records
    # older than its 24 h retention
    log = SqliteStream(local_stream_path(str(path)), shards=2)
    monkeypatch.setenv("TICKERLAKE_ALERTS_FILE", str(tmp_path / "alerts.yml"))
    (tmp_path / "alerts.yml").write_text("daily_move: {percent: 5}\n")
    return path, log


def _status(path, capsys) -> dict:
    assert cli.main(["stream", "status", "--lake", str(path), "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_consume_drains_the_stream_and_status_shows_no_lag(lake, capsys):
    path, log = lake
    for i in range(1, 4):
        log.put("IBM", encode(quote("IBM", str(100 + 3 * i), i)))
    before = _status(path, capsys)
    assert sum(s["lag_records"] for s in before["shards"]) == 3
    assert cli.main(["stream", "consume", "--lake", str(path)]) == 0
    err = capsys.readouterr().err
    assert "3 records" in err and "3 accepted" in err and "1 alerts sent" in err
    after = _status(path, capsys)
    assert [s["lag_records"] for s in after["shards"]] == [0, 0]
    shard = shard_name(shard_index("IBM", 2))
    last = {st.shard_id: st.last_sequence for st in log.status("processor")}[shard]
    assert last == "3" and {s["shard"]: s["checkpoint"] for s in after["shards"]}[shard] == last
    assert after["failure_queue"] == {"visible": 0, "in_flight": 0}


def test_a_poison_record_goes_to_the_failure_queue_after_its_retries_and_its_shard_goes_on(lake, capsys,
                                                                                            monkeypatch):
    from glue_jobs.intraday import processor

    real = processor.enrich

    def enrich(record, *args, **kwargs):  # a bug that fails on one quote every time (a bad number is rejected)
        if record.sequence == 2:
            raise ArithmeticError("a bug")
        return real(record, *args, **kwargs)

    monkeypatch.setattr(processor, "enrich", enrich)
    path, log = lake
    log.put("IBM", encode(quote("IBM", "101", 1)))
    log.put("IBM", encode(quote("IBM", "101.5", 2)))
    log.put("IBM", encode(quote("IBM", "102", 3)))
    assert cli.main(["stream", "consume", "--lake", str(path)]) == 0
    err = capsys.readouterr().err
    assert "gave up on record 2 " in err and "1 given up" in err
    status = _status(path, capsys)
    assert status["failure_queue"]["visible"] == 1 and sum(s["lag_records"] for s in status["shards"]) == 0
    from glue_jobs.adapters.local.quotes_sqlite import SqliteQuotesTable

    served = SqliteQuotesTable(path / "serving" / "quotes.sqlite").recent("IBM", now=OPEN_MS // 1000 + 3600)
    assert [q.price for q in served] == [Decimal("101"), Decimal("102")]


def test_replay_from_a_time_sends_no_alert_twice(lake, capsys):
    path, log = lake
    log.put("IBM", encode(quote("IBM", "110", 1)))
    assert cli.main(["stream", "consume", "--lake", str(path)]) == 0
    assert cli.main(["stream", "replay", "--lake", str(path), "--from", "2026-11-30"]) == 0
    err = capsys.readouterr().err
    assert "stream replay: 1 records" in err and "0 alerts sent" in err and " 0 served, 2 already served" in err
    alerts = (path / "alerts" / "alerts.jsonl").read_text().splitlines()
    assert len(alerts) == 1


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01"])
def test_a_bad_replay_time_is_a_usage_error_with_an_example(lake, capsys, value):
    path, _ = lake
    assert cli.main(["stream", "replay", "--lake", str(path), "--from", value]) == 2
    assert "e.g. 2026-11-30T14:30" in capsys.readouterr().err


def test_a_lake_without_a_stream_log_says_how_to_make_one(tmp_path, capsys):
    (tmp_path / "lake").mkdir()
    assert cli.main(["stream", "status", "--lake", str(tmp_path / "lake")]) == 2
    assert "tickerlake stream produce" in capsys.readouterr().err


@pytest.mark.parametrize("poll", ["0", "61", "soon"])
def test_a_poll_out_of_range_exits_2_naming_it(lake, capsys, poll):
    path, _ = lake
    with pytest.raises(SystemExit) as exit_:
        cli.main(["stream", "consume", "--follow", "--poll", poll, "--lake", str(path)])
    assert exit_.value.code == 2
    assert "--poll" in capsys.readouterr().err
