"""The local page's stream-consumer lag panel says why it has nothing to show, or what it
could not read, instead of failing the page."""
from __future__ import annotations

from glue_jobs.runtime import open_runtime
from workflows.cli.stream_consumer_commands import consumer_lag_extras
from workflows.dashboards import consumer_lag


def test_a_lake_without_a_stream_log_says_how_to_make_one_and_makes_none(tmp_path):
    runtime = open_runtime(str(tmp_path / "lake"), create=True)
    (html,) = consumer_lag_extras(runtime)["Intraday"]
    assert "tickerlake stream produce" in html and 'class="empty"' in html
    assert not (tmp_path / "lake" / "stream").exists()  # drawing the page made no log


def test_a_failure_to_read_shows_in_the_panel():
    def broken():
        raise OSError("database disk image is malformed")

    html = consumer_lag.panel_html(consumer_lag.collect(broken))
    assert 'class="error"' in html and "database disk image is malformed" in html


def test_lag_is_summed_over_shards_with_the_oldest_age():
    shards = [{"shard": "shardId-000000000000", "last_sequence": "9", "checkpoint": "7", "lag_records": 2,
               "lag_ms": 1500},
              {"shard": "shardId-000000000001", "last_sequence": "4", "checkpoint": "4", "lag_records": 0,
               "lag_ms": 0}]
    html = consumer_lag.panel_html(consumer_lag.collect(lambda: shards))
    assert "2 behind" in html and "1.5 s" in html and html.count("<tr><td>shardId") == 2
