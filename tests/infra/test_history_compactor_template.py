"""The scheduled history compactor in infra/template.yaml, held to the code it runs and to the
READMEs: its schedule fires after every session's close (winter and summer time, early closes)
by the compactor's own rule of when a day is over, and is the expression both READMEs give; the
function is the handler with the environment it reads, its own encrypted log group, a dead-letter
queue and alarms; everything exists only on the SQS FIFO transport; its role is Lambda's."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from cfnlint.decode import decode

from glue_jobs.intraday.compact_window import first_open_day
from glue_jobs.lake.session_hours import session_of
from workflows.entry import history_compactor

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"


@pytest.fixture(scope="module")
def resources() -> dict:
    parsed, errors = decode(str(TEMPLATE))
    assert not errors, errors
    return parsed["Resources"]


def schedule(resources) -> str:
    return resources["HistoryCompactorSchedule"]["Properties"]["ScheduleExpression"]


def test_the_schedule_is_the_one_both_readmes_give(resources):
    expression = schedule(resources)
    assert expression == "cron(30 21 ? * MON-FRI *)"
    for readme in (ROOT / "README.md", ROOT / "infra" / "README.md"):
        assert expression in readme.read_text(), f"{readme.relative_to(ROOT)} does not give {expression}"


def test_the_schedule_fires_on_every_sessions_evening_after_its_day_is_over(resources):
    minute, hour, _, _, weekdays, _ = re.fullmatch(r"cron\((.*)\)", schedule(resources)).group(1).split()
    assert weekdays == "MON-FRI"
    at = dt.time(int(hour), int(minute), tzinfo=dt.timezone.utc)
    day, sessions = dt.date(2026, 1, 1), 0
    while day.year == 2026:  # winter and summer time, the early closes of July 3, Nov 27, Dec 24
        if session_of(day) is not None:
            sessions += 1
            fired = dt.datetime.combine(day, at)
            assert first_open_day(fired) > day.isoformat(), f"the run of {day} would leave its session's day"
        day += dt.timedelta(days=1)
    assert sessions > 240


def test_the_schedule_invokes_the_function_with_retries_and_dead_letters(resources):
    rule = resources["HistoryCompactorSchedule"]["Properties"]
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["HistoryCompactorFunction", "Arn"]}
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["HistoryCompactorDeadLetterQueue", "Arn"]}
    permission = resources["HistoryCompactorSchedulePermission"]["Properties"]
    assert permission["SourceArn"] == {"Fn::GetAtt": ["HistoryCompactorSchedule", "Arn"]}
    assert permission["Principal"] == "events.amazonaws.com"
    retries = resources["HistoryCompactorAsyncConfig"]["Properties"]
    assert retries["FunctionName"] == {"Ref": "HistoryCompactorFunction"} and retries["MaximumRetryAttempts"] >= 1


def test_the_function_runs_the_handler_with_the_environment_it_reads(resources):
    function = resources["HistoryCompactorFunction"]["Properties"]
    assert function["Handler"] == f"{history_compactor.__name__}.{history_compactor.handler.__name__}"
    assert function["Runtime"] == "python3.12"
    assert set(function["Environment"]["Variables"]) == {history_compactor.ENV_LAKE, history_compactor.ENV_QUEUE_URL}
    assert function["Role"] == {"Fn::GetAtt": ["HistoryCompactorRole", "Arn"]}
    assert function["KmsKeyArn"] == {"Fn::GetAtt": ["DataKey", "Arn"]}
    assert function["DeadLetterConfig"]["TargetArn"] == {"Fn::GetAtt": ["HistoryCompactorDeadLetterQueue", "Arn"]}
    assert function["LoggingConfig"]["LogGroup"] == {"Ref": "HistoryCompactorLogGroup"}
    logs = resources["HistoryCompactorLogGroup"]["Properties"]
    assert logs["RetentionInDays"] == {"Ref": "LogRetentionDays"} and logs["KmsKeyId"] == {"Fn::GetAtt": ["DataKey", "Arn"]}
    assert resources["HistoryCompactorDeadLetterQueue"]["Properties"]["KmsMasterKeyId"] == {"Ref": "DataKey"}


def test_a_failing_run_and_an_undelivered_one_alarm_to_the_alerts_topic(resources):
    errors = resources["HistoryCompactorErrorsAlarm"]["Properties"]
    assert (errors["Namespace"], errors["MetricName"]) == ("AWS/Lambda", "Errors")
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "HistoryCompactorFunction"}}]
    assert errors["Threshold"] == 1 and errors["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    dead = resources["HistoryCompactorDeadLettersAlarm"]["Properties"]
    assert dead["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["HistoryCompactorDeadLetterQueue", "QueueName"]}
    for alarm in (errors, dead):
        assert alarm["AlarmActions"] == [{"Ref": "AlertsTopic"}]


def test_it_exists_only_on_the_sqs_fifo_transport_and_only_lambda_assumes_its_role(resources):
    # on Kinesis the history's days are projected: no partition to switch, nothing to compact
    mine = [name for name in resources if name.startswith("HistoryCompactor")]
    assert len(mine) >= 9
    assert {name: resources[name].get("Condition") for name in mine} == {name: "UseSqsFifo" for name in mine}
    (trust,) = resources["HistoryCompactorRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
