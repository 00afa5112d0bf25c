"""Every lake command on `--lake s3://bucket/prefix` under moto: the command reaches S3, the
Glue catalog and Athena, and leaves nothing on the local disk (before the one runtime builder,
`tickerlake run --lake s3://bucket/x` wrote a local folder named `s3:` and reported success).

moto's Athena runs no SQL: every execution succeeds with an empty result (no columns, no
rows). A command that needs real rows back (write_temp reads its counts, the dashboard its
panels) therefore cannot finish here; it must stop with a message and an exit code, never a
traceback and never a success."""
from __future__ import annotations

import os

import boto3
import pytest

from tests.support.aws import BUCKET, REGION
from workflows.cli.main import main

WORKGROUP = "tickerlake"
LAKE = f"s3://{BUCKET}/lake"
ON_S3 = ["--lake", LAKE, "--workgroup", WORKGROUP]


@pytest.fixture
def athena(s3, glue):
    client = boto3.client("athena", region_name=REGION)
    client.create_work_group(
        Name=WORKGROUP,
        Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{BUCKET}/athena-results/"},
                       "EnforceWorkGroupConfiguration": True},
    )
    return client


@pytest.fixture
def cwd(tmp_path, monkeypatch, athena):
    """An empty current directory: whatever a command writes locally shows up here."""
    for name in ("TICKERLAKE_LAKE", "TICKERLAKE_WORKGROUP", "TICKERLAKE_TOPIC_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return code, out, err


def local_files(root) -> list[str]:
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files)


def assert_nothing_local(root, allowed: tuple[str, ...] = ()) -> None:
    assert not os.path.exists(os.path.join(root, "s3:"))
    assert [f for f in local_files(root) if f not in allowed] == []
    assert [d for d in os.listdir(root) if d not in {a.split(os.sep)[0] for a in allowed}] == []


def s3_keys(s3, prefix: str = "lake/") -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


def athena_sql(athena) -> list[str]:
    """The statements moto's Athena received in the workgroup, oldest first."""
    ids: list[str] = []
    for page in athena.get_paginator("list_query_executions").paginate(WorkGroup=WORKGROUP):
        ids += page["QueryExecutionIds"]
    executions = [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"] for i in ids]
    assert all(e["WorkGroup"] == WORKGROUP for e in executions)
    return [e["Query"] for e in executions]


def ingest(capsys, *symbols: str) -> str:
    code, out, _ = cli(capsys, "ingest", *ON_S3, "--symbols", ",".join(symbols or ("AAPL", "MSFT")))
    assert code == 0
    return out.split("ingested run ", 1)[1].split(":", 1)[0]


def test_ingest_lands_raw_bodies_and_manifest_under_the_prefix(cwd, s3, athena, capsys):
    code, out, _ = cli(capsys, "ingest", *ON_S3, "--symbols", "AAPL,MSFT")
    assert code == 0
    keys = s3_keys(s3)
    run_id = out.split("ingested run ", 1)[1].split(":", 1)[0]
    assert sum(k.startswith("lake/raw/") and k.endswith(".csv") for k in keys) == 2
    assert f"lake/runs/{run_id}.json" in keys
    assert any(k.startswith("lake/manifests/ingest/") and run_id in k for k in keys)
    # the next-step hint points at the same lake and workgroup
    assert f"tickerlake crawl --lake {LAKE} --workgroup {WORKGROUP}" in out
    # the run's ledger row went to Athena (an INSERT into stocks.pipeline_runs)
    assert athena_sql(athena)
    assert_nothing_local(cwd)


def test_crawl_registers_the_raw_table_and_its_partitions_in_glue(cwd, glue, athena, capsys):
    ingest(capsys, "AAPL", "MSFT")
    code, out, _ = cli(capsys, "crawl", *ON_S3)
    assert code == 0 and '"partitions_added": 2' in out
    table = glue.get_table(DatabaseName="stocks", Name="raw_daily")["Table"]
    assert table["StorageDescriptor"]["Location"].startswith(f"{LAKE}/raw/")
    partitions = glue.get_partitions(DatabaseName="stocks", TableName="raw_daily")["Partitions"]
    assert sorted(p["Values"][1] for p in partitions) == ["AAPL", "MSFT"]
    assert all(p["StorageDescriptor"]["Location"].startswith(f"{LAKE}/raw/") for p in partitions)
    assert_nothing_local(cwd)


@pytest.mark.parametrize("command", ["wap", "run"])
def test_wap_and_run_send_their_sql_to_athena_and_stop_where_moto_returns_no_rows(command, cwd, s3, glue,
                                                                                 athena, capsys):
    if command == "wap":
        ingest(capsys, "AAPL")
        assert cli(capsys, "crawl", *ON_S3)[0] == 0
    before = len(athena_sql(athena))
    code, _, err = cli(capsys, command, *ON_S3, *(["--symbols", "AAPL"] if command == "run" else []))
    # Exit 1: write_temp's UNLOAD reaches Athena, then the stage reads its counts from the
    # result, and moto's empty result has no columns (KeyError 'duplicate_keys'). On real
    # Athena the columns are there; what matters here is that it is a named failure with the
    # run log's stage, not a traceback and not a success.
    assert code == 1
    assert f"unexpected error in {command}: KeyError" in err and "write_temp failed" in err
    sql = athena_sql(athena)[before:]
    assert any("tmp_daily_prices" in q or "tmp_ingest_fetches" in q for q in sql), sql
    # the write goes into the lake on S3, never a local directory
    writes = [q for q in sql if q.startswith("UNLOAD")]
    assert writes and all(f"\nTO '{LAKE}/" in q for q in writes)
    runs = [k for k in s3_keys(s3, "lake/runs/") if k.endswith(".json")]
    assert runs and glue.get_table(DatabaseName="stocks", Name="raw_daily")
    assert_nothing_local(cwd)


def test_query_runs_in_the_athena_workgroup(cwd, athena, capsys):
    code, out, _ = cli(capsys, "query", *ON_S3, "select symbol from stocks.daily_prices")
    # Exit 0: the statement ran in Athena; moto answers every query with no columns and no rows.
    assert code == 0 and "(0 rows)" in out
    assert athena_sql(athena) == ["select symbol from stocks.daily_prices"]
    assert_nothing_local(cwd)


def test_dashboard_queries_athena_and_fails_by_name_on_moto_results(cwd, athena, capsys):
    code, _, err = cli(capsys, "dashboard", *ON_S3)
    # Exit 1: the page's panel queries reach Athena, and rendering moto's column-less results
    # fails (IndexError) as a named unexpected error; no page is written on that failure.
    assert code == 1
    assert "unexpected error in dashboard: IndexError" in err
    assert athena_sql(athena)
    assert_nothing_local(cwd)


def test_dashboard_check_names_every_panel_that_returns_nothing(cwd, athena, capsys):
    code, _, err = cli(capsys, "dashboard", *ON_S3, "--check")
    # Exit 1: --check sends the dashboard's variable queries to Athena first; moto's
    # column-less answer fails them, and the check names that failure instead of crashing.
    assert code == 1 and err.startswith("FAIL panel variables")
    assert any("from stocks.symbol_years" in q for q in athena_sql(athena))  # the symbol list's summary
    assert_nothing_local(cwd)


def test_operator_commands_read_and_write_s3_and_glue(cwd, s3, glue, athena, capsys):
    ingest_run = ingest(capsys, "AAPL")
    assert cli(capsys, "crawl", *ON_S3)[0] == 0
    code, out, _ = cli(capsys, "runs", *ON_S3, "--format", "csv")
    assert code == 0 and len(out.strip().splitlines()) == 3  # header, ingest, crawl
    pipeline_run = out.strip().splitlines()[1].split(",")[0]

    code, out, _ = cli(capsys, "janitor", *ON_S3, "--dry-run")
    assert code == 0 and out.startswith("janitor would delete ")
    before = s3_keys(s3)

    code, out, err = cli(capsys, "rollback", *ON_S3, "--run", pipeline_run, "--dry-run")
    # Exit 2: rollback read the crawl run's log from S3 (it names its status) and found that it
    # published nothing; on moto no run can publish (see the module docstring), so "nothing to
    # roll back" is the furthest a rollback gets here.
    assert code == 2 and f"run {pipeline_run} published no partition" in err and "status: succeeded" in err
    code, out, err = cli(capsys, "rollback", *ON_S3, "--run", "20990101T000000Z-nope00", "--dry-run")
    assert code == 2 and f"no run '20990101T000000Z-nope00' in {LAKE}" in err
    assert s3_keys(s3) == before  # dry runs change nothing

    code, out, _ = cli(capsys, "set-aside", *ON_S3, "--ingest-run", ingest_run, "--reason", "bad feed")
    assert code == 0 and "is set aside" in out and f"{LAKE}/" in out
    written = set(s3_keys(s3)) - set(before)
    assert written and all(ingest_run in k for k in written)
    assert any(k.startswith("lake/manifests/set_aside/") for k in written)

    code, out, _ = cli(capsys, "requeue", *ON_S3, "--ingest-run", ingest_run)
    assert code == 0 and "is pending again" in out
    assert not [k for k in s3_keys(s3) if k.startswith("lake/manifests/set_aside/")]
    assert_nothing_local(cwd)


@pytest.mark.parametrize("lake", ["gs://x", "ftp://x"])
@pytest.mark.parametrize("argv", [["run"], ["ingest"], ["crawl"], ["wap"], ["query", "select 1"], ["runs"],
                                  ["dashboard"], ["janitor", "--dry-run"], ["rollback", "--run", "r", "--dry-run"],
                                  ["set-aside", "--ingest-run", "i", "--reason", "r"], ["requeue", "--ingest-run", "i"]])
def test_a_scheme_no_runtime_serves_is_exit_2_naming_the_supported_ones(lake, argv, cwd, capsys):
    code, out, err = cli(capsys, argv[0], "--lake", lake, *argv[1:])
    assert code == 2
    assert f"the {lake.split(':')[0]}:// scheme is not supported" in err
    assert "a directory (e.g. ./lake) or s3://bucket[/prefix]" in err
    assert_nothing_local(cwd)


@pytest.mark.parametrize("argv", [["query", "select 1"], ["run"], ["wap"], ["dashboard"]])
def test_sql_on_an_s3_lake_without_a_workgroup_is_exit_2_before_touching_the_lake(argv, cwd, s3, athena, capsys):
    code, _, err = cli(capsys, argv[0], "--lake", LAKE, *argv[1:])
    assert code == 2
    assert "needs an Athena workgroup" in err and "--workgroup" in err and "TICKERLAKE_WORKGROUP" in err
    assert s3_keys(s3) == [] and athena_sql(athena) == []
    assert_nothing_local(cwd)


def test_the_workgroup_comes_from_the_environment_too(cwd, athena, capsys, monkeypatch):
    monkeypatch.setenv("TICKERLAKE_WORKGROUP", WORKGROUP)
    assert cli(capsys, "query", "--lake", LAKE, "select 2")[0] == 0
    assert athena_sql(athena) == ["select 2"]
    assert_nothing_local(cwd)
