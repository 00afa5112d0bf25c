"""The operator subcommands as a user types them: output, and exit codes (0 done, 1 refused,
2 usage)."""
from __future__ import annotations

import datetime as dt

import pytest

from glue_jobs.lake.run_log import RunLog
from glue_jobs.runtime import local_context, open_runtime
from tests.support.wap_fixtures import land_synthetic
from workflows.cli.main import main
from workflows.runner import run_wap

D1, D2 = dt.date(2024, 3, 7), dt.date(2024, 3, 8)
R1, R2 = "20240307T230000Z-aaaaaa", "20240308T230000Z-bbbbbb"


@pytest.fixture
def lake(tmp_path):
    root = tmp_path / "lake"
    for run_id, day, ingest in ((R1, D1, "20240307T220000Z-i1"), (R2, D2, "20240308T220000Z-i2")):
        ctx = local_context(root, run_id=run_id, as_of=day)
        land_synthetic(ctx.storage, run_id=ingest, as_of=day, symbols=["AAA"], days=5, seed=day.day)
        run_wap(ctx)
        log = RunLog.load(ctx.storage, run_id)
        log.finish()
        log.save()
    return str(root)


def test_janitor_dry_run_then_for_real(lake, capsys):
    assert main(["janitor", "--lake", lake, "--dry-run", "--retention-days", "0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("janitor would delete ") and "nothing was deleted (dry run)" in out
    assert "stocks.tmp_daily_prices" in out
    assert main(["janitor", "--lake", lake, "--retention-days", "0"]) == 0
    assert capsys.readouterr().out.startswith("janitor deleted ")
    assert main(["janitor", "--lake", lake, "--retention-days", "-1"]) == 2
    assert "--retention-days must be zero or more" in capsys.readouterr().err


def test_rollback_dry_run_real_and_mistakes(lake, capsys):
    assert main(["rollback", "--lake", lake, "--run", R2, "--dry-run"]) == 0
    assert f"rollback of run {R2}: would put back 1 partition(s)" in capsys.readouterr().out
    assert main(["rollback", "--lake", lake, "--run", R1]) == 1  # R2 republished 2024 since
    err = capsys.readouterr().err
    assert "refused" in err and f"tickerlake rollback --run {R2}" in err
    assert main(["rollback", "--lake", lake, "--run", R2]) == 0
    out = capsys.readouterr().out
    assert f"rollback of run {R2}: put back 1 partition(s)" in out
    assert "serve sync: 1 manifest(s) announced, 1 loaded" in out
    # the serving table answers what the rolled-back table holds, with no `serve sync` by hand
    runtime = open_runtime(lake)
    published = {(r["trade_date"].isoformat(), r["close"]) for r in runtime.engine.query(
        "select trade_date, close from stocks.daily_prices where symbol = 'AAA'").to_pylist()}
    assert {(b.trade_date, float(b.close)) for b in runtime.serving.get_bars("AAA")} == published
    assert "tickerlake requeue --ingest-run 20240308T220000Z-i2" in out
    assert main(["rollback", "--lake", lake, "--run", "20990101T000000Z-nope00"]) == 2
    assert "no run '20990101T000000Z-nope00'" in capsys.readouterr().err
    assert main(["rollback", "--lake", lake + "-missing", "--run", R2]) == 2


def test_set_aside_and_requeue(lake, capsys):
    ctx = local_context(lake, run_id="20240309T000000Z-land01", as_of=D2)
    land_synthetic(ctx.storage, run_id="20240308T235000Z-i3", as_of=D2, symbols=["BBB"], days=2)
    assert main(["set-aside", "--lake", lake, "--ingest-run", "20240308T235000Z-i3", "--reason", "bad feed"]) == 0
    out = capsys.readouterr().out
    assert "is set aside" in out and "tickerlake requeue --ingest-run 20240308T235000Z-i3" in out
    assert main(["requeue", "--lake", lake, "--ingest-run", "20240308T235000Z-i3"]) == 0
    assert "is pending again" in capsys.readouterr().out
    assert main(["set-aside", "--lake", lake, "--ingest-run", "20240308T220000Z-i2", "--reason", "x"]) == 2
    assert "already published" in capsys.readouterr().err
