"""`tickerlake stream compact`: a finished day's history files (one per consumer batch) become one
per shard, and a query of stocks.intraday_quotes sees every row once before, during (after each
write, switch and delete) and after it, also when it stops midway and is run again."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from glue_jobs.adapters.local.stream_sqlite import SqliteStream
from glue_jobs.intraday import Consumer
from glue_jobs.intraday.compact import CompactionError, compact_day, compactable_days, plan_day
from glue_jobs.intraday.history import COMPACTED_PREFIX, PREFIX
from glue_jobs.lake.quote_record import encode
from glue_jobs.runtime import local_stream_path, open_runtime
from tests.glue_jobs.intraday.quotes import NOW, OPEN_MS, quote
from workflows.cli import main as cli
from workflows.cli import stream_consumer_commands
from workflows.intraday import open_processor

DAY = "2026-11-30"
SYMBOLS = ("IBM", "MSFT", "AAPL", "KO")  # spread over both shards of the log
DURING_THE_SESSION = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.timezone.utc)  # 10:00 New York
NEXT_DAY = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
ROWS = "select symbol, sequence, price, dt from stocks.intraday_quotes order by symbol, sequence"


def consume(lake: Path, log: SqliteStream, **drain) -> dict:
    runtime = open_runtime(str(lake), create=True)
    processor = open_processor(runtime, env={}, clock=lambda: NOW)
    return Consumer(log, processor, runtime.queue_factory("intraday-failures"), batch=3).drain(**drain).to_dict()


def rows(lake: Path) -> list[dict]:
    return open_runtime(str(lake)).engine.query(ROWS).to_pylist()


@pytest.fixture
def lake(tmp_path) -> tuple[Path, SqliteStream, list[dict]]:
    log = SqliteStream(tmp_path / "log.sqlite", shards=2, clock=lambda: OPEN_MS / 1000 + 60)
    for i in range(1, 8):
        for symbol in SYMBOLS:
            log.put(symbol, encode(quote(symbol, str(100 + i), i)))
    consume(tmp_path / "lake", log)
    before = rows(tmp_path / "lake")
    assert len(before) == 7 * len(SYMBOLS)
    assert len({n.split("~")[0] for n in batch_files(tmp_path / "lake")}) == 2  # both shards hold some
    return tmp_path / "lake", log, before


def batch_files(lake: Path) -> list[str]:
    return sorted(p.name for p in (lake / "stream" / "quotes" / f"dt={DAY}").glob("*.parquet"))


def test_the_plan_merges_each_shards_files_in_sequence_order_under_one_location():
    keys = [f"{PREFIX}dt={DAY}/shard-001~10~12.parquet", f"{PREFIX}dt={DAY}/shard-000~10~11.parquet",
            f"{PREFIX}dt={DAY}/shard-000~2~9.parquet", f"{PREFIX}dt={DAY}/notes.txt"]
    plan = plan_day(DAY, keys)
    assert plan is not None and plan.location.startswith(f"{COMPACTED_PREFIX}dt={DAY}/g")
    # sequences compared as numbers, not text ("10" after "9")
    assert [m.key[len(plan.location):] for m in plan.merges] == ["shard-000~2~11.parquet", "shard-001~10~12.parquet"]
    assert plan.merges[0].sources == (keys[2], keys[1])
    assert plan_day(DAY, list(reversed(keys))).location == plan.location  # a rerun writes the same keys
    assert plan_day(DAY, keys[:2]).location != plan.location
    assert plan_day(DAY, [f"{PREFIX}dt={DAY}/notes.txt"]) is None


def test_a_finished_day_becomes_one_file_per_shard_with_the_same_rows(lake):
    path, _, before = lake
    runtime = open_runtime(str(path))
    assert len(batch_files(path)) > 2
    shards = sorted({n.split("~")[0] for n in batch_files(path)})
    result = compact_day(runtime.storage, runtime.catalog, DAY)
    assert result.state == "compacted" and result.rows == 28 and result.files_written == 2
    assert batch_files(path) == []
    location = runtime.catalog.list_partitions("stocks", "intraday_quotes")[0].location
    assert location.startswith(f"{COMPACTED_PREFIX}dt={DAY}/")
    assert sorted(k.rsplit("/", 1)[-1].split("~")[0] for k in runtime.storage.list_keys(location)) == \
        shards
    assert rows(path) == before
    again = compact_day(runtime.storage, runtime.catalog, DAY)
    assert again.state == "already compacted" and rows(path) == before


class Watched:
    """A port whose every change is followed by a reader's query (what a user would see then)."""

    def __init__(self, inner, check, changes, stop_after=None):
        self._inner, self._check, self._changes, self._stop_after = inner, check, changes, stop_after

    def __getattr__(self, name):
        value = getattr(self._inner, name)
        if name not in ("put_bytes", "delete", "switch_partitions"):
            return value

        def changed(*args, **kwargs):
            out = value(*args, **kwargs)
            self._changes.append(name)
            self._check()
            if self._stop_after is not None and len(self._changes) == self._stop_after:
                raise RuntimeError(f"stopped after change {self._stop_after} ({name})")
            return out
        return changed


def test_a_reader_sees_every_row_once_after_each_step(lake):
    path, _, before = lake
    runtime = open_runtime(str(path))
    seen, changes = [], []

    def check():
        seen.append(rows(path))

    compact_day(Watched(runtime.storage, check, changes), Watched(runtime.catalog, check, changes), DAY)
    assert changes == ["put_bytes", "put_bytes", "switch_partitions", "delete"]  # a merged file per shard
    assert all(s == before for s in seen)


@pytest.mark.parametrize("stop_after", [1, 2, 3, 4])
def test_a_compaction_stopped_after_any_step_is_finished_by_the_next_run(lake, stop_after):
    path, log, before = lake
    runtime = open_runtime(str(path))
    changes: list[str] = []
    with pytest.raises(RuntimeError, match="stopped after"):
        compact_day(Watched(runtime.storage, lambda: None, changes, stop_after),
                    Watched(runtime.catalog, lambda: None, changes, stop_after), DAY)
    assert rows(path) == before
    assert compactable_days(runtime.storage, runtime.catalog, "2026-12-01") == ([] if stop_after == 4 else [DAY])
    compact_day(runtime.storage, runtime.catalog, DAY)
    assert rows(path) == before and batch_files(path) == []
    assert len(runtime.storage.list_keys(runtime.catalog.list_partitions("stocks", "intraday_quotes")[0].location)) == 2


def test_a_replay_after_compaction_adds_no_history_row(lake):
    path, log, before = lake
    runtime = open_runtime(str(path))
    compact_day(runtime.storage, runtime.catalog, DAY)
    result = consume(path, log, checkpoint=False, after={s: None for s in log.shards()}, since_ms=0)
    assert result["records"] == 28 and result["history_rows"] == 0
    assert batch_files(path) == [] and rows(path) == before


def test_a_day_without_a_partition_is_refused_with_the_reason(lake):
    path, _, _ = lake
    runtime = open_runtime(str(path))
    with pytest.raises(CompactionError, match="no partition dt=2026-11-29"):
        compact_day(runtime.storage, runtime.catalog, "2026-11-29")


def test_only_days_before_the_bound_are_compactable(lake):
    path, _, _ = lake
    runtime = open_runtime(str(path))
    assert compactable_days(runtime.storage, runtime.catalog, DAY) == []
    assert compactable_days(runtime.storage, runtime.catalog, "2026-12-01") == [DAY]


def test_the_command_compacts_finished_days_and_refuses_an_open_one(lake, monkeypatch, capsys):
    path, _, before = lake
    monkeypatch.setattr(stream_consumer_commands, "_now", lambda: DURING_THE_SESSION)
    assert cli.main(["stream", "compact", "--lake", str(path), "--day", DAY]) == 2
    assert "the day is not over" in capsys.readouterr().err
    assert cli.main(["stream", "compact", "--lake", str(path)]) == 0
    assert "no finished day to compact" in capsys.readouterr().err
    monkeypatch.setattr(stream_consumer_commands, "_now", lambda: NEXT_DAY)
    assert cli.main(["stream", "compact", "--lake", str(path)]) == 0
    assert f"dt={DAY}: " in (err := capsys.readouterr().err) and "merged into 2 (28 rows)" in err, err
    assert batch_files(path) == [] and rows(path) == before


def test_the_command_leaves_a_day_the_consumer_has_not_finished(lake, monkeypatch, capsys):
    path, _, before = lake
    # a record on the lake's own log that the consumer has not processed: it arrived now, so
    # every day from today's on may still get history rows
    log = SqliteStream(local_stream_path(str(path)))
    log.put("IBM", encode(quote("IBM", "108", 8)))
    log.close()
    monkeypatch.setattr(stream_consumer_commands, "_now", lambda: dt.datetime(2999, 1, 1, tzinfo=dt.timezone.utc))
    assert cli.main(["stream", "compact", "--lake", str(path), "--day", "2998-12-31"]) == 2
    assert "run `tickerlake stream consume` first" in capsys.readouterr().err
    assert rows(path) == before


def test_a_file_written_after_the_day_was_compacted_joins_a_new_generation(lake):
    """A record of the day processed late (a message redriven from the failure queue) lands in
    the batch folder, which the switched partition no longer reads: the next run merges it in."""
    from glue_jobs.intraday.history import file_key, parquet_bytes

    path, _, before = lake
    runtime = open_runtime(str(path))
    compact_day(runtime.storage, runtime.catalog, DAY)
    first = runtime.catalog.list_partitions("stocks", "intraday_quotes")[0].location
    late = quote("IBM", "120", 99)
    runtime.storage.put_bytes(file_key(DAY, "shard-000", "900", "900"), parquet_bytes([late]))
    assert compactable_days(runtime.storage, runtime.catalog, "2026-12-01") == [DAY]
    result = compact_day(runtime.storage, runtime.catalog, DAY)
    assert result.state == "compacted" and result.rows == 29
    assert rows(path) == sorted(before + [{"symbol": "IBM", "sequence": 99, "price": 120.0, "dt": DAY}],
                                key=lambda r: (r["symbol"], r["sequence"]))
    assert batch_files(path) == [] and runtime.storage.list_keys(first) == []  # the old generation is gone
    assert compact_day(runtime.storage, runtime.catalog, DAY).state == "already compacted"


def test_the_command_compacts_the_sessions_day_once_the_session_has_closed(lake, monkeypatch, capsys):
    path, _, before = lake
    # Monday 2026-11-30 closes at 16:00 New York = 21:00 UTC; the day is over 15 minutes later
    monkeypatch.setattr(stream_consumer_commands, "_now", lambda: dt.datetime(2026, 11, 30, 21, 5, tzinfo=dt.timezone.utc))
    assert cli.main(["stream", "compact", "--lake", str(path)]) == 0
    assert "no finished day to compact" in capsys.readouterr().err and len(batch_files(path)) > 2
    monkeypatch.setattr(stream_consumer_commands, "_now", lambda: dt.datetime(2026, 11, 30, 21, 30, tzinfo=dt.timezone.utc))
    assert cli.main(["stream", "compact", "--lake", str(path)]) == 0
    assert f"dt={DAY}: " in (err := capsys.readouterr().err) and "merged into 2 (28 rows)" in err, err
    assert batch_files(path) == [] and rows(path) == before


def test_a_day_that_cannot_be_merged_exits_1_naming_it_and_loses_nothing(lake, monkeypatch, capsys):
    path, _, before = lake
    (path / "stream" / "quotes" / f"dt={DAY}" / "shard-000~900~900.parquet").write_bytes(b"not parquet")
    kept = batch_files(path)
    monkeypatch.setattr(stream_consumer_commands, "_now", lambda: NEXT_DAY)
    assert cli.main(["stream", "compact", "--lake", str(path)]) == 1
    assert f"dt={DAY}: failed: " in capsys.readouterr().err
    assert batch_files(path) == kept
    assert open_runtime(str(path)).catalog.list_partitions("stocks", "intraday_quotes")[0].location == f"{PREFIX}dt={DAY}/"
