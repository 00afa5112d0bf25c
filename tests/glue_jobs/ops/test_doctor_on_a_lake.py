"""`tickerlake doctor [--repair]` on a lake `tickerlake run` built over two years (2023 and
2024, 2024 published twice so it has an earlier version): for each kind of damage, doctor
names the file and the fix and exits 6; --repair restores it, exits 0, and stocks.daily_prices
holds exactly the rows it held before the damage. Also: a run touching another partition
succeeds beside a damaged one, and the janitor keeps what the catalog history points to."""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest

from glue_jobs.lake import layout
from glue_jobs.lake.errors import EXIT_DOCTOR_PROBLEMS
from glue_jobs.ops import doctor, janitor
from glue_jobs.ports.catalog import Partition
from glue_jobs.runtime import local_context
from tests.support.symbol_years import kept_and_recomputed
from workflows.cli.main import main

SYMBOLS = "AAA,BBB"


def _run(lake: Path, date: str, *extra: str) -> int:
    return main(["run", "--source", "synthetic", "--lake", str(lake), "--symbols", SYMBOLS, "--date", date,
                 "--no-dashboard", *extra])


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, list[tuple]]:
    lake = tmp_path_factory.mktemp("doctor") / "lake"
    assert _run(lake, "2024-03-08", "--start", "2023-06-01") == 0
    assert _run(lake, "2024-03-11") == 0  # 2024 again: an earlier version in the history
    return lake, rows(lake)


def rows(lake: Path) -> list[tuple]:
    ctx = local_context(lake, run_id="20990101T000000Z-reader")
    table = ctx.engine.query("select * from stocks.daily_prices")
    return sorted(tuple(str(v) for v in r.values()) for r in table.to_pylist())


@pytest.fixture
def lake(built, tmp_path) -> Path:
    copy = tmp_path / "lake"
    shutil.copytree(built[0], copy)
    return copy


def locations(lake: Path) -> dict[str, str]:
    ctx = local_context(lake, run_id="20990101T000000Z-reader")
    return {p.values["trade_year"]: p.location for p in ctx.catalog.list_partitions("stocks", "daily_prices")}


def _doctor(lake: Path, capsys, *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["doctor", "--lake", str(lake), *extra])
    out = capsys.readouterr()
    return code, out.out + out.err


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _damage_and_repair(lake: Path, capsys, names: str) -> str:
    code, out = _doctor(lake, capsys)
    assert code == EXIT_DOCTOR_PROBLEMS, out
    assert names in out and "doctor --repair" in out, out
    code, out = _doctor(lake, capsys, "--repair")
    assert code == 0, out
    assert "healthy" in out, out
    return out


def test_a_healthy_lake(built, capsys):
    lake, before = built
    code, out = _doctor(lake, capsys)
    assert code == 0 and "healthy" in out, out
    # every published version carries its manifest, recorded in the run log too
    for location in locations(lake).values():
        manifest = json.loads((lake / layout.version_manifest_key(location)).read_text())
        assert manifest["rows"] > 0 and all(len(f["sha256"]) == 64 for f in manifest["files"])
    assert before


def test_truncated_catalog_document(built, lake, capsys):
    _truncate(lake / "catalog/stocks/daily_prices.json")
    _damage_and_repair(lake, capsys, "catalog/stocks/daily_prices.json")
    assert rows(lake) == built[1]


def test_deleted_catalog_document(built, lake, capsys):
    (lake / "catalog/stocks/daily_prices.json").unlink()
    _damage_and_repair(lake, capsys, "catalog/stocks/daily_prices.json")
    assert rows(lake) == built[1]


def test_truncated_partition_file_is_republished_from_raw(built, lake, capsys):
    location = locations(lake)["2023"]  # published once: no earlier version
    (part,) = sorted((lake / location).glob("*.parquet"))
    _truncate(part)
    out = _damage_and_repair(lake, capsys, str(part.relative_to(lake)))
    assert "re-publishing from raw" in out
    assert rows(lake) == built[1]
    assert part.exists()  # deletes nothing


def test_deleted_partition_folder(built, lake, capsys):
    location = locations(lake)["2024"]
    shutil.rmtree(lake / location)
    out = _damage_and_repair(lake, capsys, location)
    assert "switched stocks.daily_prices trade_year=2024" in out
    assert rows(lake) == built[1]


def test_dashboard_check_fails_on_a_deleted_partition_folder_and_names_it(built, lake, capsys):
    assert main(["dashboard", "--check", "--lake", str(lake)]) == 0
    capsys.readouterr()
    location = locations(lake)["2023"]
    shutil.rmtree(lake / location)
    assert main(["dashboard", "--check", "--lake", str(lake)]) == 1
    err = capsys.readouterr().err
    assert f"FAIL {location}" in err and "doctor --repair" in err


def test_a_summary_behind_the_prices_is_a_warning_that_repair_brings_in_step(built, lake, capsys):
    assert kept_and_recomputed(lake)[0] == kept_and_recomputed(lake)[1]
    # 2024 back on its earlier version behind the pipeline's back (a catalog document restored
    # from a backup): the dashboard's summary of 2024 is of the other version
    current = locations(lake)["2024"]
    (earlier,) = [f"{p.relative_to(lake).as_posix()}/" for p in (lake / current).parent.iterdir()
                  if p.is_dir() and f"{p.relative_to(lake).as_posix()}/" != current]
    ctx = local_context(lake, run_id="20990101T000001Z-edit01")
    ctx.catalog.switch_partitions("stocks", "daily_prices", [Partition({"trade_year": "2024"}, earlier)])
    kept, full = kept_and_recomputed(lake)
    assert kept != full
    code, out = _doctor(lake, capsys)
    assert code == 0 and "[symbol_years] stocks.symbol_years trade_year=2024" in out and "doctor --repair" in out, out
    assert main(["dashboard", "--check", "--lake", str(lake)]) == 1
    assert "stocks.symbol_years trade_year=2024" in capsys.readouterr().err
    code, out = _doctor(lake, capsys, "--repair")
    assert code == 0 and "healthy" in out and "stocks.symbol_years: switched trade_year 2024 to the summary" in out, out
    kept, full = kept_and_recomputed(lake)
    assert kept == full


def test_a_lake_published_before_the_summary_gets_it_from_repair(built, lake, capsys):
    ctx = local_context(lake, run_id="20990101T000002Z-edit02")
    ctx.catalog.drop_table("stocks", "symbol_years")
    shutil.rmtree(lake / "warehouse" / "symbol_years")
    capsys.readouterr()
    assert main(["dashboard", "--lake", str(lake), "--out", str(lake.parent / "page.html")]) == 2
    err = capsys.readouterr().err
    assert "stocks.symbol_years" in err and "doctor --repair" in err and "Traceback" not in err, err
    code, out = _doctor(lake, capsys)
    assert code == 0 and "trade_year=2023" in out and "no summary of the year" in out, out
    code, out = _doctor(lake, capsys, "--repair")
    assert code == 0 and "healthy" in out and "wrote the summary of trade_year 2023, 2024" in out, out
    kept, full = kept_and_recomputed(lake)
    assert kept == full and full
    assert main(["dashboard", "--lake", str(lake), "--out", str(lake.parent / "page.html")]) == 0


def test_corrupt_run_log(built, lake, capsys):
    log_file = sorted((lake / "runs").glob("*.json"))[0]
    _truncate(log_file)
    _damage_and_repair(lake, capsys, str(log_file.relative_to(lake)))
    assert json.loads(log_file.read_text())["status"] == "damaged"
    assert rows(lake) == built[1]


def test_corrupt_version_manifest(built, lake, capsys):
    key = layout.version_manifest_key(locations(lake)["2023"])
    original = json.loads((lake / key).read_text())
    (lake / key).write_text("{not json")
    _damage_and_repair(lake, capsys, key)
    assert json.loads((lake / key).read_text())["files"] == original["files"]
    assert rows(lake) == built[1]


def test_corrupt_ingest_state(built, lake, capsys):
    (lake / layout.STATE_KEY).write_text('{"carried": [')
    _damage_and_repair(lake, capsys, layout.STATE_KEY)
    assert json.loads((lake / layout.STATE_KEY).read_text())["rebuilt_by_doctor"] is True
    assert rows(lake) == built[1]
    assert _run(lake, "2024-03-12") == 0  # the ingest reads the rebuilt state


def test_a_run_touching_another_partition_succeeds_beside_a_damaged_one(lake, capsys):
    (part,) = sorted((lake / locations(lake)["2023"]).glob("*.parquet"))
    _truncate(part)
    assert _run(lake, "2024-03-12", "--start", "2024-01-02") == 0  # touches 2024 only
    run_log = json.loads(sorted((lake / "runs").glob("*.json"))[-1].read_text())
    warned = run_log["stages"]["publish"]["details"]["daily_prices"]["damaged_untouched_partitions"]
    assert any("trade_year=2023" in w for w in warned), warned
    code, out = _doctor(lake, capsys)
    assert code == EXIT_DOCTOR_PROBLEMS and str(part.relative_to(lake)) in out


def test_a_run_merging_into_a_damaged_partition_stops_with_the_fix(lake, capsys):
    (part,) = sorted((lake / locations(lake)["2024"]).glob("*.parquet"))
    _truncate(part)
    capsys.readouterr()
    assert _run(lake, "2024-03-12") == 1
    err = capsys.readouterr().err
    assert "damaged partition" in err and "tickerlake doctor --repair" in err, err


def test_the_janitor_keeps_what_the_history_points_to(built, lake, capsys):
    earlier = [loc for loc in (lake / "warehouse/daily_prices/trade_year=2024").iterdir()]
    assert len(earlier) == 2
    # every version written 30 days ago: by their times alone the earlier 2024 one is past the
    # retention; the catalog history that points to it is younger, so it stays
    month_ago = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=30)).timestamp()
    for path in (lake / "warehouse").rglob("*"):
        os.utime(path, (month_ago, month_ago))
    report = janitor.run(local_context(lake).storage, local_context(lake).catalog, dry_run=False)
    assert all(loc.exists() for loc in earlier), report["lines"]
    assert any("catalog history points to" in k["reason"] for k in report["kept"])
    # so a lost current version still has its way back
    shutil.rmtree(lake / locations(lake)["2024"])
    _damage_and_repair(lake, capsys, locations(lake)["2024"])
    assert rows(lake) == built[1]


def test_no_message_advises_dropping_a_document():
    root = Path(__file__).resolve().parents[3]
    for path in list((root / "glue_jobs").rglob("*.py")) + list((root / "workflows").rglob("*.md")) + [root / "README.md"]:
        text = path.read_text().lower()
        assert "drop it and re-run" not in text and "drop {database}.{name}'s document" not in text, path


def test_doctor_checks_catalog_of_raw_table_too(lake, capsys):
    _truncate(lake / "catalog/stocks/raw_daily.json")
    _damage_and_repair(lake, capsys, "catalog/stocks/raw_daily.json")
    assert doctor.check(local_context(lake).storage, local_context(lake).catalog) == []
