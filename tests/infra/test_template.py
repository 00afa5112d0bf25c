"""The CloudFormation template: lint-clean, security-scan-clean, and its Glue workflow is the
stage graph of workflows/graph.py (so neither can change without the other)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cfnlint.api import lint_file
from cfnlint.decode import decode

from workflows import graph

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"
CHECKOV_VENV = ROOT / ".venv-checkov"
CHECKOV_VERSION = "3.3.30"


def cfn_templates() -> list[Path]:
    """Every CloudFormation template under infra/ (Grafana's YAML is not one)."""
    found = []
    for path in sorted((ROOT / "infra").rglob("*")):
        if path.suffix in (".yaml", ".yml", ".json") and "AWSTemplateFormatVersion" in path.read_text(
            encoding="utf-8", errors="replace"
        ):
            found.append(path)
    return found


@pytest.fixture(scope="module")
def template() -> dict:
    parsed, errors = decode(str(TEMPLATE))
    assert not errors, errors
    return parsed


def resources_of(template: dict, kind: str) -> dict[str, dict]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def ref(value) -> str:
    assert isinstance(value, dict) and set(value) == {"Ref"}, f"expected a !Ref, got {value!r}"
    return value["Ref"]


def test_the_template_list_is_not_empty():
    assert TEMPLATE in cfn_templates()


@pytest.mark.parametrize("path", cfn_templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_cfn_lint_finds_no_error(path):
    errors = [m for m in lint_file(path) if m.rule.id.startswith("E")]
    assert errors == [], "\n".join(str(m) for m in errors)


GLUE_KINDS = ("crawler", "pythonshell")


def glue_host(name: str) -> str:
    """The Glue stage a stage's successors wait for: itself, or the nearest Glue stage before it."""
    stage = graph.BY_NAME[name]
    while stage.aws_kind not in GLUE_KINDS and stage.after and stage.after != "ingest":
        stage = graph.BY_NAME[stage.after]
    return stage.name


def test_the_glue_workflow_is_the_stage_graph(template):
    jobs = resources_of(template, "AWS::Glue::Job")
    crawlers = resources_of(template, "AWS::Glue::Crawler")
    stage_of = {name: job["Properties"]["DefaultArguments"]["--stage"] for name, job in jobs.items()}
    stage_of.update({name: c["Metadata"]["tickerlake"]["stage"] for name, c in crawlers.items()})
    workflows = resources_of(template, "AWS::Glue::Workflow")
    assert len(workflows) == 1
    (workflow,) = workflows

    edges = set()
    starts = []
    for name, trigger in resources_of(template, "AWS::Glue::Trigger").items():
        props = trigger["Properties"]
        assert ref(props["WorkflowName"]) == workflow, name
        targets = [stage_of[ref(a.get("JobName") or a.get("CrawlerName"))] for a in props["Actions"]]
        if props["Type"] == "ON_DEMAND":
            starts.extend(targets)
            continue
        assert props["Type"] == "CONDITIONAL", name
        assert props.get("StartOnCreation") is True, f"{name} would never fire"
        predicate = props["Predicate"]
        assert predicate.get("Logical") in ("AND", "ANY"), f"{name}: give Logical explicitly"
        for condition in predicate["Conditions"]:
            assert condition["LogicalOperator"] == "EQUALS"
            if "JobName" in condition:
                upstream, state = stage_of[ref(condition["JobName"])], condition["State"]
            else:
                upstream, state = stage_of[ref(condition["CrawlerName"])], condition["CrawlState"]
            assert state == "SUCCEEDED", f"{name} must fire only when {upstream} SUCCEEDED"
            edges.update((upstream, target) for target in targets)

    # A stage that is not a Glue job or crawler (serve: on AWS the loader Lambda fed by S3 events
    # through EventBridge and SQS, test_serving_template.py checks that path) is no node of the
    # Glue workflow: a job after it waits for the Glue stage before it.
    assert edges == {(glue_host(a), b) for a, b in graph.glue_edges() if graph.BY_NAME[b].aws_kind in GLUE_KINDS}
    assert starts == [s.name for s in graph.STAGES if s.after == "ingest"]
    assert sorted(stage_of.values()) == sorted(s.name for s in graph.STAGES if s.aws_kind in GLUE_KINDS)
    assert sorted(c for n, c in stage_of.items() if n in crawlers) == [
        s.name for s in graph.STAGES if s.aws_kind == "crawler"
    ]


def test_every_job_is_a_small_python39_shell_running_our_wheel_under_the_security_configuration(template):
    for name, job in resources_of(template, "AWS::Glue::Job").items():
        props = job["Properties"]
        assert props["Command"]["Name"] == "pythonshell", name
        assert props["Command"]["PythonVersion"] == "3.9", name
        assert props["MaxCapacity"] == 0.0625, name
        assert ref(props["SecurityConfiguration"]) == "GlueSecurityConfiguration", name
        args = props["DefaultArguments"]
        assert "GlueWheelKey" in json.dumps(args["--extra-py-files"]), name  # see test_glue_wheel.py
        assert "GlueScriptKey" in json.dumps(props["Command"]["ScriptLocation"]), name
    roles = [ref_or_getatt(job["Properties"]["Role"]) for job in resources_of(template, "AWS::Glue::Job").values()]
    assert len(set(roles)) == len(roles), "one role per job"


def ref_or_getatt(value) -> str:
    if "Fn::GetAtt" in value:
        return value["Fn::GetAtt"][0]
    return ref(value)


def test_the_crawler_keeps_non_data_out_and_never_silently_drops_columns(template):
    (crawler,) = resources_of(template, "AWS::Glue::Crawler").values()
    props = crawler["Properties"]
    exclusions = props["Targets"]["S3Targets"][0]["Exclusions"]
    for kept_out in ("body.json", "manifests", "rejected"):
        assert any(kept_out in e for e in exclusions), kept_out
    assert props["SchemaChangePolicy"] == {"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"}


def test_the_lambda_gets_the_secrets_id_never_the_key_and_its_handler_exists(template):
    function = resources_of(template, "AWS::Lambda::Function")["IngestFunction"]
    props = function["Properties"]
    env = props["Environment"]["Variables"]
    assert "ALPHAVANTAGE_API_KEY" not in env
    assert ref(env["ALPHAVANTAGE_SECRET_ID"]) in resources_of(template, "AWS::SecretsManager::Secret")
    module, _, attr = props["Handler"].rpartition(".")
    assert callable(getattr(__import__(module, fromlist=[attr]), attr))
    assert props["Runtime"] == "python3.12"
    (rule,) = [r for r in resources_of(template, "AWS::Events::Rule").values()
               if "ScheduleExpression" in r["Properties"]
               and r["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": ["IngestFunction", "Arn"]}]
    assert rule["Properties"]["ScheduleExpression"] == "cron(0 22 ? * MON-FRI *)"
    target = rule["Properties"]["Targets"][0]
    assert "RetryPolicy" in target and "DeadLetterConfig" in target


def iam_statements(template: dict):
    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                for st in policy["PolicyDocument"]["Statement"]:
                    if set(st) == {"Fn::If"}:  # a statement a condition chooses: check both branches
                        yield from ((name, branch) for branch in st["Fn::If"][1:] if "Action" in branch)
                    else:
                        yield name, st
        elif resource["Type"] == "AWS::IAM::ManagedPolicy":
            for st in props["PolicyDocument"]["Statement"]:
                yield name, st


def test_no_identity_policy_grants_a_wildcard_action(template):
    statements = list(iam_statements(template))
    assert len(statements) > 20
    for name, st in statements:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        assert not [a for a in actions if a == "*" or a.endswith(":*")], f"{name}/{st.get('Sid')}: {actions}"
        if any(a.startswith(("s3:Get", "s3:Put", "s3:Delete")) for a in actions):
            assert '"${LakeBucket.Arn}/*"' not in json.dumps(st["Resource"]), (
                f"{name}/{st.get('Sid')} reaches the whole lake; scope it to the prefixes the stage uses"
            )


# ---------------------------------------------------------------------------------------------
# checkov: conflicts with this project's pins, so it lives in its own venv, made on first use.
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def checkov_bin() -> Path:
    binary = CHECKOV_VENV / "bin" / "checkov"
    lock_path = ROOT / ".pytest_cache" / "venv-checkov.lock"  # git-ignored
    lock_path.parent.mkdir(exist_ok=True)
    import fcntl

    with open(lock_path, "w") as lock:  # pytest-xdist workers must not install it twice at once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not binary.exists():
            print(f"\ninstalling checkov {CHECKOV_VERSION} into {CHECKOV_VENV} (first run only, ~30 s)", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "venv", str(CHECKOV_VENV)], check=True)
            result = subprocess.run(
                [str(CHECKOV_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 f"checkov=={CHECKOV_VERSION}"],
                capture_output=True, text=True,
            )
            if result.returncode != 0:
                pytest.fail(f"could not install checkov into {CHECKOV_VENV}:\n{result.stderr[-3000:]}")
    return binary


@pytest.mark.checkov
@pytest.mark.parametrize("path", cfn_templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_checkov_finds_no_failed_check_and_every_skip_has_a_reason(checkov_bin, path):
    result = subprocess.run(
        [str(checkov_bin), "--file", str(path), "--framework", "cloudformation", "--output", "json",
         "--skip-download", "--compact"],
        capture_output=True, text=True, env={**os.environ, "BC_SKIP_MAPPING": "TRUE"}, timeout=300,
    )
    assert result.stdout.strip(), f"checkov printed nothing (exit {result.returncode}): {result.stderr[-2000:]}"
    report = json.loads(result.stdout)
    results = report["results"] if isinstance(report, dict) else report[0]["results"]
    failed = [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in results["failed_checks"]]
    assert failed == [], "\n".join(failed)
    unexplained = [
        c["check_id"] for c in results["skipped_checks"]
        if not (c["check_result"].get("suppress_comment") or "").strip()
    ]
    assert unexplained == [], f"skipped without a reason in the template: {unexplained}"
    assert results["passed_checks"], "checkov checked nothing"


def test_glue_code_is_python39_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--target-version", "py39", "glue_jobs"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_raw_table_in_the_template_is_the_one_the_code_declares(template):
    from glue_jobs.adapters.aws.glue_catalog import GlueCatalog
    from glue_jobs.lake import tables

    raw = resources_of(template, "AWS::Glue::Table")["RawDailyTable"]
    declared = raw["Properties"]["TableInput"]
    expected = GlueCatalog("s3://lake-bucket", client=object())._table_input(tables.raw_daily())
    assert declared["Name"] == expected["Name"]
    assert declared["PartitionKeys"] == expected["PartitionKeys"]
    sd, expected_sd = declared["StorageDescriptor"], expected["StorageDescriptor"]
    assert sd["Columns"] == expected_sd["Columns"]
    assert sd["SerdeInfo"] == expected_sd["SerdeInfo"]
    assert (sd["InputFormat"], sd["OutputFormat"]) == (expected_sd["InputFormat"], expected_sd["OutputFormat"])
    assert declared["Parameters"] == expected["Parameters"]
    assert sd["Location"] == {"Fn::Sub": "s3://${LakeBucket}/raw/daily/"}
    (crawler,) = resources_of(template, "AWS::Glue::Crawler").values()
    assert crawler["Properties"]["TablePrefix"] + "daily" == declared["Name"]
    assert crawler["Properties"]["Targets"]["S3Targets"][0]["Path"] == {"Fn::Sub": "s3://${LakeBucket}/raw/daily/"}


def test_after_publish_may_define_every_view_of_sql_views_and_nothing_published(template):
    from glue_jobs.lake import sql_files

    role = template["Resources"]["AfterPublishRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    # the ledger and views' statement, and stocks.symbol_years' own (which may also drop partitions)
    defines = [st for st in role if "glue:CreateTable" in st["Action"]]
    allowed = {r["Fn::Sub"].rsplit("table/stocks/", 1)[1] for define in defines for r in define["Resource"]
               if "table/stocks/" in r["Fn::Sub"]}
    views = {Path(name).stem for name in sql_files.names("views")}
    assert views and views <= allowed, f"add to AfterPublishRole: {sorted(views - allowed)}"
    assert not {"daily_prices", "daily_prices_quarantine", "raw_daily", "*"} & allowed


def test_every_trigger_of_a_workflow_waits_for_the_previous_one(template):
    # Glue refuses a trigger added while another is being added to the same workflow
    # ("Workflow ... was modified while adding trigger ...": cloudformation-coverage-roadmap#2103).
    triggers = resources_of(template, "AWS::Glue::Trigger")
    by_workflow: dict[str, list[str]] = {}
    for name, trigger in triggers.items():
        by_workflow.setdefault(ref(trigger["Properties"]["WorkflowName"]), []).append(name)
    for workflow, names in by_workflow.items():
        previous_of = {}
        for name in names:
            depends = triggers[name].get("DependsOn", [])
            depends = [depends] if isinstance(depends, str) else depends
            previous_of[name] = [d for d in depends if d in names]
        firsts = [n for n, prev in previous_of.items() if not prev]
        assert len(firsts) == 1, f"{workflow}: {firsts} are created in parallel; chain them with DependsOn"
        chain = firsts
        while True:
            following = [n for n, prev in previous_of.items() if prev == [chain[-1]]]
            assert len(following) <= 1, f"{workflow}: {following} all wait for {chain[-1]}, so they are added together"
            if not following:
                break
            chain.append(following[0])
        assert sorted(chain) == sorted(names), f"{workflow}: {sorted(set(names) - set(chain))} are not in the chain"


def test_the_ingest_function_reserves_no_concurrency_that_a_new_account_cannot_give(template):
    # A new account's concurrency quota is 10 and Lambda keeps 10 unreserved: reserving any fails the stack.
    functions = resources_of(template, "AWS::Lambda::Function")
    for name, function in functions.items():
        assert "ReservedConcurrentExecutions" not in function["Properties"], name
    skips = {s["id"]: s["comment"] for s in functions["IngestFunction"]["Metadata"]["checkov"]["skip"]}
    assert "lake lock" in skips["CKV_AWS_115"]


def test_a_failing_ingest_run_notifies_the_alerts_topic(template):
    name = "IngestFunction"
    assert name in resources_of(template, "AWS::Lambda::Function")
    alarms = [a["Properties"] for a in resources_of(template, "AWS::CloudWatch::Alarm").values()
              if a["Properties"].get("Namespace") == "AWS/Lambda" and a["Properties"]["MetricName"] == "Errors"]
    (alarm,) = [a for a in alarms if ref(a["Dimensions"][0]["Value"]) == name]
    assert alarm["Dimensions"][0]["Name"] == "FunctionName"
    assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert [ref(a) for a in alarm["AlarmActions"]] == ["AlertsTopic"]
    assert alarm["TreatMissingData"] == "notBreaching"


def test_the_crawler_fails_rather_than_splitting_the_raw_zone_and_partitions_inherit_the_table(template):
    (crawler,) = resources_of(template, "AWS::Glue::Crawler").values()
    config = json.loads(crawler["Properties"]["Configuration"])
    assert config["CrawlerOutput"]["Tables"]["TableThreshold"] == 1
    assert config["CrawlerOutput"]["Partitions"]["AddOrUpdateBehavior"] == "InheritFromTable"
    assert config["Grouping"]["TableGroupingPolicy"] == "CombineCompatibleSchemas"
