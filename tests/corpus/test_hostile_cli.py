"""The CLI as a careless user drives it: empty values, sloppy dates, wrong sources, files where
folders belong, out-of-range settings, a held lock, Ctrl-C. Each case asserts its exit code, a
fragment of what the user reads, no traceback, and the prod fingerprint: the bytes of every file
under the lake's warehouse/ and catalog/ unchanged unless the case is meant to publish.

The fingerprint of a run that starts leaves out the run ledger (stocks.pipeline_runs,
stocks.audit_results), the raw table's registration and temporary tables: a run that starts and
then fails crawls and records itself there by design. A refusal before the run starts
writes nothing at all, and those cases check the ledger is untouched too (`strict`).

One synthetic lake is built and published once per module; a case that may write gets a copy.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from workflows.cli.main import main

DAY = "2026-11-20"
# Not prod: the run ledger, the raw table's registration (the crawl), temporary tables.
NOT_PROD = ("/pipeline_runs", "/audit_results", "/raw_daily", "/tmp_")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A published synthetic lake of IBM and AAPL, built once."""
    lake = tmp_path_factory.mktemp("hostile") / "lake"
    env = {k: v for k, v in os.environ.items() if k.startswith(("TICKERLAKE_", "ALPHAVANTAGE_"))}
    for k in env:
        del os.environ[k]
    try:
        assert main(["run", "--lake", str(lake), "--symbols", "IBM,AAPL", "--date", DAY, "--no-dashboard"]) == 0
    finally:
        os.environ.update(env)
    assert json.loads((lake / "lake.json").read_text())["source"] == "synthetic"
    return lake


def fingerprint(lake: Path, *, strict: bool = False) -> dict[str, str]:
    out = {}
    for top in ("warehouse", "catalog"):
        for path in sorted((lake / top).rglob("*")):
            rel = path.relative_to(lake).as_posix()
            if path.is_file() and (strict or not any(t in rel for t in NOT_PROD)):
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def as_alphavantage(lake: Path, *, legacy: bool = False) -> None:
    """Make a copied lake one filled from Alpha Vantage: by its record, or (legacy) by an older
    lake's only witness, its newest ingest manifest."""
    if legacy:
        (lake / "lake.json").unlink()
        newest = sorted((lake / "manifests" / "ingest").rglob("*.json"))[-1]
        doc = json.loads(newest.read_text())
        doc["source"] = "alphavantage"
        newest.write_text(json.dumps(doc))
    else:
        (lake / "lake.json").write_text(json.dumps({"version": 1, "source": "alphavantage"}))


@dataclass
class Case:
    name: str
    argv: list[str]  # "{lake}" is the case's lake, "{tmp}" its temporary folder
    code: int
    words: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    lake: str = "copy"  # copy: a copy of the built lake; av / legacy_av: the copy from Alpha Vantage; new: none yet
    publishes: bool = False
    strict: bool = True  # nothing at all is written to warehouse/ or catalog/, the ledger included
    absent: tuple[str, ...] = ()  # words that must not appear


KEY = {"ALPHAVANTAGE_API_KEY": "HOSTILEKEY0000", "ALPHAVANTAGE_BASE_URL": "http://127.0.0.1:9/query"}
RUN = ["run", "--lake", "{lake}", "--date", DAY, "--no-dashboard"]

CASES = [
    # 7. empty values are errors, dates are exactly YYYY-MM-DD
    Case("empty_symbols", [*RUN, "--symbols", ""], 2, ("--symbols is empty",)),
    Case("blank_symbols", [*RUN, "--symbols", "   "], 2, ("--symbols is empty",)),
    Case("empty_lake_flag", ["run", "--lake", "", "--date", DAY], 2, ("--lake is empty",)),
    Case("empty_lake_env", ["runs"], 2, ("TICKERLAKE_LAKE is set but empty",), env={"TICKERLAKE_LAKE": ""}),
    Case("empty_symbols_env", RUN, 2, ("TICKERLAKE_SYMBOLS is set but empty",), env={"TICKERLAKE_SYMBOLS": ""}),
    Case("empty_date", [*RUN[:-3], "--date", "", "--no-dashboard"], 2, ("--date is empty",)),
    Case("empty_date_env", ["run", "--lake", "{lake}", "--no-dashboard"], 2, ("TICKERLAKE_DATE is set but empty",),
         env={"TICKERLAKE_DATE": ""}),
    Case("basic_date", ["run", "--lake", "{lake}", "--date", "20261120"], 2, ("expected YYYY-MM-DD",)),
    Case("week_date", ["run", "--lake", "{lake}", "--date", "2026-W47-5"], 2, ("expected YYYY-MM-DD",)),
    Case("datetime_date", ["run", "--lake", "{lake}", "--date", "2026-11-20T00:00"], 2, ("expected YYYY-MM-DD",)),
    Case("basic_start", [*RUN, "--start", "20260101"], 2, ("--start '20260101' is not a date",)),
    Case("empty_source_env", RUN, 2, ("TICKERLAKE_SOURCE is set but empty",), env={"TICKERLAKE_SOURCE": ""}),
    # 11. every setting checked before the lake is touched
    Case("share_500_percent", RUN, 2, ("TICKERLAKE_AUDIT_MAX_QUARANTINE_SHARE='5' is out of range", "[0, 1]"),
         env={"TICKERLAKE_AUDIT_MAX_QUARANTINE_SHARE": "5"}),
    Case("share_not_a_number", RUN, 2, ("is not a number",), env={"TICKERLAKE_AUDIT_MAX_QUARANTINE_SHARE": "abc"}),
    Case("share_nan", RUN, 2, ("out of range",), env={"TICKERLAKE_AUDIT_MIN_SHARE_OF_EXPECTED": "nan"}),
    Case("count_fraction", RUN, 2, ("TICKERLAKE_AUDIT_MIN_ROWS='1.5' is not whole",),
         env={"TICKERLAKE_AUDIT_MIN_ROWS": "1.5"}),
    Case("count_negative", RUN, 2, ("out of range",), env={"TICKERLAKE_AUDIT_MAX_IDENTICAL_CLOSES": "-1"}),
    Case("audit_empty", RUN, 2, ("TICKERLAKE_AUDIT_MIN_ROWS is set but empty",), env={"TICKERLAKE_AUDIT_MIN_ROWS": ""}),
    Case("misspelt_setting", ["runs", "--lake", "{lake}"], 0, ("TICKERLAKE_SYMBOL is not a tickerlake setting",
                                                               "did you mean TICKERLAKE_SYMBOLS?"),
         env={"TICKERLAKE_SYMBOL": "IBM"}),
    Case("misspelt_audit_setting", ["runs", "--lake", "{lake}"], 0,
         ("did you mean TICKERLAKE_AUDIT_MAX_QUARANTINE_SHARE?",), env={"TICKERLAKE_AUDIT_MAX_QUARANTINE_SHAR": "0.1"}),
    Case("faults_with_real_source", [*RUN, "--source", "alphavantage", "--faults", "bad_rows:IBM"], 2,
         ("synthetic data only",), env=KEY),
    Case("faults_env_with_real_source", [*RUN, "--source", "alphavantage"], 2, ("synthetic data only",),
         env={**KEY, "TICKERLAKE_FAULTS": "duplicates:IBM"}),
    Case("unknown_fault", [*RUN, "--faults", "meteor:IBM"], 2, ("unknown fault kind",)),
    Case("missing_api_key", [*RUN, "--source", "alphavantage"], 2, ("needs an API key", "Nothing was created"),
         lake="new"),
    Case("calls_per_day_huge", [*RUN, "--calls-per-day", "99999999999999999999999"], 2, ("at most 1000000000",)),
    Case("calls_per_minute_zero_env", RUN, 2, ("TICKERLAKE_CALLS_PER_MINUTE must be at least 1",),
         env={"TICKERLAKE_CALLS_PER_MINUTE": "0"}),
    Case("min_interval_bad", RUN, 2, ("TICKERLAKE_MIN_INTERVAL_S 'soon' is not a number",),
         env={"TICKERLAKE_MIN_INTERVAL_S": "soon"}),
    # 2. the lake knows its source
    Case("synthetic_on_av_lake", [*RUN, "--symbols", "IBM"], 2,
         ("holds data from alphavantage", "never done", "--source alphavantage"), lake="av"),
    Case("switch_to_synthetic_refused", [*RUN, "--symbols", "IBM", "--source", "synthetic", "--switch-source"], 2,
         ("never done",), lake="av"),
    Case("legacy_av_lake", [*RUN, "--symbols", "IBM"], 2, ("holds data from alphavantage", "newest ingest, manifest"),
         lake="legacy_av"),
    Case("env_source_on_av_lake", [*RUN, "--symbols", "IBM"], 2, ("holds data from alphavantage",),
         env={"TICKERLAKE_SOURCE": "synthetic"}, lake="av"),
    Case("av_on_synthetic_lake_without_switch", [*RUN, "--symbols", "IBM", "--source", "alphavantage"], 2,
         ("filled from synthetic", "--switch-source"), env=KEY),
    Case("switch_source_on_crawl", ["crawl", "--lake", "{lake}", "--switch-source"], 2, ("unrecognized arguments",)),
    # 8. commands on an existing lake take source and symbols from it
    Case("crawl_on_av_lake", ["crawl", "--lake", "{lake}"], 0, ("source alphavantage", "the lake's symbols"),
         lake="av", strict=False, absent=("source synthetic",)),
    Case("wap_on_av_lake", ["wap", "--lake", "{lake}", "--date", DAY], 0, ("source alphavantage",),
         lake="av", strict=False, absent=("stale", "MSFT", "source synthetic")),
    Case("wap_with_other_source_env", ["wap", "--lake", "{lake}", "--date", DAY], 2,
         ("holds data from alphavantage",), env={"TICKERLAKE_SOURCE": "synthetic"}, lake="av"),
    # 10. plain user errors: exit 2 with what, where and what to do
    Case("binary_symbols_file", [*RUN, "--symbols-file", "{tmp}/binary.txt"], 2, ("is not UTF-8 text",)),
    Case("folder_symbols_file", [*RUN, "--symbols-file", "{tmp}"], 2, ("a directory",)),
    Case("lake_is_a_file", ["run", "--lake", "{tmp}/binary.txt", "--date", DAY], 2, ("is a file, not a directory",)),
    Case("lake_under_proc", ["run", "--lake", "/proc/tickerlake", "--date", DAY], 2, ("/proc is a system folder",)),
    Case("lake_under_sys", ["runs", "--lake", "/sys/kernel"], 2, ("/sys is a system folder",)),
    Case("dashboard_out_folder", ["dashboard", "--lake", "{lake}", "--out", "{tmp}"], 2, ("is a folder",)),
    Case("dashboard_negative_sessions", ["dashboard", "--lake", "{lake}", "--sessions", "-5"], 2,
         ("--sessions", "negative")),
    Case("janitor_nan_days", ["janitor", "--lake", "{lake}", "--dry-run", "--retention-days", "nan"], 2,
         ("--retention-days",)),
    Case("janitor_inf_days", ["janitor", "--lake", "{lake}", "--retention-days", "inf"], 2, ("number of days",)),
    Case("bench_workdir_file", ["bench", "--quick", "--workdir", "{tmp}/binary.txt"], 2, ("is a file",)),
    Case("negative_seed", [*RUN, "--seed", "-5"], 2, ("--seed -5 is out of range",)),
    Case("runs_limit_zero", ["runs", "--lake", "{lake}", "--limit", "0"], 2, ("--limit",)),
    Case("query_missing_lake", ["query", "--lake", "{tmp}/nolake", "select 1"], 2, ("no lake at",),
         absent=("runs/",)),
]


def _run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's usage errors
        return int(exc.code)


@pytest.fixture
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("TICKERLAKE_", "ALPHAVANTAGE_")):
            monkeypatch.delenv(name)
    return monkeypatch


def _prepare(case_lake: str, built: Path, tmp_path: Path) -> Path:
    lake = tmp_path / "lake"
    if case_lake != "new":
        shutil.copytree(built, lake)
    if case_lake in ("av", "legacy_av"):
        as_alphavantage(lake, legacy=case_lake == "legacy_av")
    return lake


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input(case: Case, built, tmp_path, clean_env, capsys):
    work = tmp_path / "work"
    work.mkdir()
    (work / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    clean_env.chdir(work)  # a default ./lake would appear here
    lake = _prepare(case.lake, built, tmp_path)
    for name, value in case.env.items():
        clean_env.setenv(name, value)
    before = fingerprint(lake, strict=case.strict) if lake.exists() else {}
    listing = sorted(p.name for p in work.iterdir())

    argv = [a.replace("{lake}", str(lake)).replace("{tmp}", str(work)) for a in case.argv]
    code = _run(argv)

    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert code == case.code, text
    for word in case.words:
        assert word in text, text
    for word in case.absent:
        assert word not in text, text
    assert "Traceback" not in text
    if case.code != 0:
        assert "unexpected error" not in text
    if case.lake == "new":
        assert not lake.exists(), "a refused run created the lake"
    elif not case.publishes:
        assert fingerprint(lake, strict=case.strict) == before
    assert sorted(p.name for p in work.iterdir()) == listing, "a stray file or ./lake appeared"


# -- cases that need more than argv --------------------------------------------------------------


def test_lock_held_by_another_run_exits_5_and_writes_nothing(built, tmp_path, clean_env, capsys):
    lake = _prepare("copy", built, tmp_path)
    import datetime as dt

    holder = {"run_id": "20261120T230000Z-other", "host": socket.gethostname() + "-elsewhere", "pid": 1,
              "started_at": dt.datetime.now(dt.timezone.utc).isoformat()}
    (lake / "locks").mkdir(exist_ok=True)
    (lake / "locks" / "pipeline.lock").write_text(json.dumps(holder))
    before, runs = fingerprint(lake, strict=True), sorted((lake / "runs").iterdir())
    assert main([*[a.replace("{lake}", str(lake)) for a in RUN], "--symbols", "IBM"]) == 5
    err = capsys.readouterr().err
    assert "is locked by run 20261120T230000Z-other" in err and "Traceback" not in err
    assert "run log" not in err  # no run started, so none is claimed
    assert fingerprint(lake, strict=True) == before and sorted((lake / "runs").iterdir()) == runs


def test_ctrl_c_inside_a_stage_exits_130_naming_the_run_log(built, tmp_path, clean_env, capsys):
    import ingestion.stage

    lake = _prepare("copy", built, tmp_path)

    def interrupted(ctx):
        raise KeyboardInterrupt

    clean_env.setattr(ingestion.stage, "run", interrupted)
    before = fingerprint(lake)
    assert main([*[a.replace("{lake}", str(lake)) for a in RUN], "--symbols", "IBM"]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "the run log records where it stopped" in err and "Traceback" not in err
    assert fingerprint(lake) == before
    log = json.loads(sorted((lake / "runs").glob("*.json"))[-1].read_text())
    assert log["stages"]["ingest"]["status"] == "failed"


def test_a_damaged_ledger_is_a_warning_and_the_run_log_says_so(built, tmp_path, clean_env, capsys):
    lake = _prepare("copy", built, tmp_path)
    for doc in (lake / "catalog").rglob("pipeline_runs*.json"):
        doc.write_text("{ not json")
    code = main([*[a.replace("{lake}", str(lake)) for a in RUN], "--symbols", "IBM,AAPL"])
    text = "".join(capsys.readouterr())
    assert code == 0, text
    assert "is not in stocks.pipeline_runs" in text and "Traceback" not in text
    log = json.loads(sorted((lake / "runs").glob("*.json"))[-1].read_text())
    assert log["status"] == "succeeded, not in ledger"


def test_blocked_audit_hints_carry_the_lake_flag(built, tmp_path, clean_env, capsys):
    lake = _prepare("copy", built, tmp_path)
    clean_env.setenv("TICKERLAKE_AUDIT_MAX_QUARANTINE_SHARE", "0.01")
    before = fingerprint(lake)
    code = main([*[a.replace("{lake}", str(lake)) for a in RUN], "--symbols", "IBM", "--faults", "bad_rows:IBM"])
    err = capsys.readouterr().err
    assert code == 3, err
    assert f"tickerlake set-aside --lake {lake} --ingest-run" in err and f"tickerlake wap --lake {lake}" in err
    assert fingerprint(lake) == before


def test_switching_a_synthetic_lake_to_alphavantage_on_purpose_is_recorded(built, tmp_path, clean_env, capsys):
    from glue_jobs.adapters.local.storage import LocalStorage
    from glue_jobs.lake import lake_record

    lake = _prepare("copy", built, tmp_path)
    storage = LocalStorage(str(lake))
    lake_record.check_source(lake_record.read_source(storage), "alphavantage", switch=True, where=str(lake))
    lake_record.write_source(storage, "alphavantage", run_id="r1", previous="synthetic")
    doc = json.loads((lake / "lake.json").read_text())
    assert (doc["source"], doc["previous_source"]) == ("alphavantage", "synthetic")
    with pytest.raises(Exception, match="never done"):
        lake_record.check_source(lake_record.read_source(storage), "synthetic", switch=True, where=str(lake))
