"""`make smoke STACK=<name>`: one symbol through a deployed stack's whole chain, each step printed.

    python -m workflows.smoke --stack tickerlake [--symbol IBM] [--as-of 2026-11-20] [--timeout-min 40]

It deploys nothing. Against the stack `make deploy` made it: finds the stack's outputs, invokes
the ingestion Lambda for one symbol and day (one Alpha Vantage call), follows the Glue workflow
run the Lambda started (crawler, then the five jobs) to its end, then asks Athena, through the
lake's own engine, for that symbol's row of that day in stocks.daily_prices.

Exit 0: the row is there. Exit 2: nothing was tried (no credentials, no region, no such stack,
an output missing, a bad argument). Exit 1: a step failed; the message names it.
Credentials and region come from the environment as for the AWS CLI (AWS_PROFILE, AWS_REGION...).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
from collections.abc import Sequence
from typing import Any, Callable

from glue_jobs.lake import trading_calendar
from glue_jobs.lake.errors import EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE

# The outputs of infra/template.yaml the chain needs.
OUTPUTS = ("IngestFunctionName", "GlueWorkflowName", "AthenaWorkGroupName", "GlueDatabaseName", "LakeBucketName")
DONE_WORKFLOW = ("COMPLETED", "STOPPED", "ERROR")
FAILED_RUN = ("FAILED", "TIMEOUT", "STOPPED", "ERROR", "CANCELLED")
SYMBOL = re.compile(r"^[A-Z][A-Z0-9.\-]{0,14}$")
POLL_S = 15.0


class SmokeStop(Exception):
    """A step that cannot go on: its message is what the user reads; exit_code says whether
    anything was tried (EXIT_USAGE: no) or a step of the chain failed (EXIT_UNEXPECTED)."""

    def __init__(self, message: str, exit_code: int = EXIT_UNEXPECTED):
        super().__init__(message)
        self.exit_code = exit_code


class AwsChain:
    """The AWS calls of the smoke run, one method per step (tests replace it with a stub)."""

    def __init__(self, session: Any = None):
        if session is None:
            import boto3
            from botocore.exceptions import ProfileNotFound

            try:
                session = boto3.session.Session()
            except ProfileNotFound as exc:
                raise SmokeStop(f"{exc}: set AWS_PROFILE to a profile of `aws configure list-profiles`",
                                EXIT_USAGE) from None
        self.session = session

    def whoami(self) -> str:
        if self.session.get_credentials() is None:
            raise SmokeStop("no AWS credentials found: configure some (aws configure, AWS_PROFILE=<profile>, "
                            "or aws sso login) and run again", EXIT_USAGE)
        if not self.session.region_name:
            raise SmokeStop("no AWS region: set AWS_REGION=<the stack's region> (or aws configure set region)",
                            EXIT_USAGE)
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            account = self.session.client("sts").get_caller_identity()["Account"]
        except (ClientError, BotoCoreError) as exc:
            raise SmokeStop(f"the AWS credentials were refused ({_aws_error(exc)}): renew them and run again",
                            EXIT_USAGE) from None
        return f"account {account}, region {self.session.region_name}"

    def stack_outputs(self, stack: str) -> dict[str, str]:
        from botocore.exceptions import ClientError

        try:
            (found,) = self.session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
        except ClientError as exc:
            if "does not exist" in str(exc):
                raise SmokeStop(f"no stack named {stack!r} in {self.session.region_name}: deploy one with "
                                "`make deploy ARTIFACTS_BUCKET=...`, or pass STACK=<its name> "
                                "(and AWS_REGION=<its region>)", EXIT_USAGE) from None
            raise SmokeStop(f"could not read stack {stack!r}: {_aws_error(exc)}", EXIT_USAGE) from None
        status = found["StackStatus"]
        if not status.endswith("_COMPLETE") or "ROLLBACK" in status or "DELETE" in status:
            raise SmokeStop(f"stack {stack!r} is {status}: wait for `make deploy` to finish, or fix what "
                            "`aws cloudformation describe-stack-events` reports", EXIT_USAGE)
        return {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}

    def invoke_ingest(self, function: str, payload: dict) -> dict:
        from botocore.config import Config

        # One attempt: a retried invoke would ingest (and spend the key's quota) twice. The read
        # timeout covers the function's own 15 minutes.
        client = self.session.client("lambda", config=Config(read_timeout=960, retries={"max_attempts": 1}))
        answer = client.invoke(FunctionName=function, InvocationType="RequestResponse",
                               Payload=json.dumps(payload).encode())
        body = json.loads(answer["Payload"].read() or b"null")
        if answer.get("FunctionError"):
            message = body.get("errorMessage") if isinstance(body, dict) else body
            raise SmokeStop(f"the ingestion Lambda {function} failed: {message}\n"
                            f"  its log: aws logs tail /aws/lambda/{function} --since 30m")
        return body

    def workflow_run(self, workflow: str, run_id: str) -> dict:
        return self.session.client("glue").get_workflow_run(Name=workflow, RunId=run_id, IncludeGraph=True)["Run"]

    def rows_of(self, lake: str, workgroup: str, database: str, symbol: str, as_of: dt.date) -> dict:
        # The lake's own Athena engine: the same adapter, workgroup and rules the jobs use.
        from glue_jobs.runtime import open_runtime

        engine = open_runtime(lake, workgroup=workgroup, session=self.session).engine
        table = engine.query(
            f"SELECT count(*) AS n_rows, count_if(trade_date = DATE '{as_of.isoformat()}') AS on_day, "
            f"max(trade_date) AS last_day FROM \"{database}\".\"daily_prices\" WHERE symbol = '{symbol}'"
        )
        return table.to_pylist()[0]


def _aws_error(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    error = response.get("Error", {})
    return f"{error.get('Code', type(exc).__name__)}: {error.get('Message', str(exc))}"


def default_as_of(today: dt.date) -> dt.date:
    """The last NYSE session that has closed before `today` (a run after the close can pass it)."""
    return trading_calendar.previous_session(today)


def _node_states(run: dict) -> dict[str, str]:
    """{job or crawler name: its latest state} from a workflow run's graph."""
    states = {}
    for node in (run.get("Graph") or {}).get("Nodes", []):
        if node.get("Type") == "JOB":
            runs = (node.get("JobDetails") or {}).get("JobRuns") or []
            if runs:
                last = runs[-1]
                states[node["Name"]] = last.get("JobRunState", "?") + (
                    f" ({last['ErrorMessage']})" if last.get("ErrorMessage") else "")
        elif node.get("Type") == "CRAWLER":
            crawls = (node.get("CrawlerDetails") or {}).get("Crawls") or []
            if crawls:
                last = crawls[-1]
                states[node["Name"]] = last.get("State", "?") + (
                    f" ({last['ErrorMessage']})" if last.get("ErrorMessage") else "")
    return states


def run_smoke(stack: str, symbol: str, as_of: dt.date, *, chain: Any, say: Callable[[str], None] = print,
              sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
              timeout_s: float = 40 * 60) -> dict:
    """The steps in order; raises SmokeStop at the first that fails. Returns what it found."""
    say(f"1/5 credentials: {chain.whoami()}")
    outputs = chain.stack_outputs(stack)
    missing = [name for name in OUTPUTS if not outputs.get(name)]
    if missing:
        raise SmokeStop(f"stack {stack!r} has no output {', '.join(missing)}: it is not a tickerlake stack, "
                        "or an older one (re-run `make deploy`)", EXIT_USAGE)
    say(f"2/5 stack {stack}: Lambda {outputs['IngestFunctionName']}, workflow {outputs['GlueWorkflowName']}, "
        f"workgroup {outputs['AthenaWorkGroupName']}")

    summary = chain.invoke_ingest(outputs["IngestFunctionName"], {"symbols": symbol, "as_of": as_of.isoformat()})
    say(f"3/5 ingest: run {summary.get('run_id')} {summary.get('status')} {summary.get('counts', {})}")
    workflow_run_id = summary.get("workflow_run_id")
    if not workflow_run_id:
        raise SmokeStop(f"the Lambda started no workflow run ({summary.get('status')}): an earlier run of "
                        f"{outputs['GlueWorkflowName']} may still be going; see `aws glue get-workflow-runs "
                        f"--name {outputs['GlueWorkflowName']}`, then run again")

    started = clock()
    seen: dict[str, str] = {}
    while True:
        run = chain.workflow_run(outputs["GlueWorkflowName"], workflow_run_id)
        for name, state in _node_states(run).items():
            if seen.get(name) != state:
                say(f"4/5 workflow {workflow_run_id}: {name} {state}")
                seen[name] = state
        if run.get("Status") in DONE_WORKFLOW:
            break
        if clock() - started > timeout_s:
            raise SmokeStop(f"workflow run {workflow_run_id} still {run.get('Status')} after "
                            f"{timeout_s / 60:.0f} minutes: follow it in the Glue console, or wait and query")
        sleep(POLL_S)
    failed = {n: s for n, s in seen.items() if s.split(" ", 1)[0] in FAILED_RUN}
    stats = run.get("Statistics") or {}
    if run.get("Status") != "COMPLETED" or failed or stats.get("FailedActions") or stats.get("TimeoutActions"):
        detail = "; ".join(f"{n} {s}" for n, s in failed.items()) or run.get("ErrorMessage") or run.get("Status")
        raise SmokeStop(f"workflow run {workflow_run_id} did not succeed: {detail}\n"
                        f"  the run log: s3://{outputs['LakeBucketName']}/runs/{summary.get('run_id')}.json")
    say(f"4/5 workflow {workflow_run_id}: COMPLETED")

    rows = chain.rows_of(f"s3://{outputs['LakeBucketName']}", outputs["AthenaWorkGroupName"],
                         outputs["GlueDatabaseName"], symbol, as_of)
    say(f"5/5 athena: {rows.get('n_rows')} rows of {symbol} in daily_prices, last {rows.get('last_day')}")
    if not rows.get("on_day"):
        raise SmokeStop(f"Athena has no row of {symbol} for {as_of} in {outputs['GlueDatabaseName']}.daily_prices "
                        f"although the workflow completed: see the run log "
                        f"s3://{outputs['LakeBucketName']}/runs/{summary.get('run_id')}.json")
    return {"run_id": summary.get("run_id"), "workflow_run_id": workflow_run_id, **rows}


def main(argv: Sequence[str] | None = None, *, chain: Any = None, say: Callable[[str], None] = print,
         today: dt.date | None = None, **kwargs: Any) -> int:
    parser = argparse.ArgumentParser(prog="make smoke", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="tickerlake", help="the CloudFormation stack (make's STACK)")
    parser.add_argument("--symbol", default="IBM", help="one ticker (one Alpha Vantage call)")
    parser.add_argument("--as-of", help="the session to ingest (default: the last one closed before today)")
    parser.add_argument("--timeout-min", type=float, default=40.0, help="how long to wait for the workflow")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    symbol = args.symbol.strip().upper()
    try:
        if not SYMBOL.match(symbol):
            raise SmokeStop(f"--symbol {args.symbol!r}: one ticker such as IBM (letters, digits, '.', '-')",
                            EXIT_USAGE)
        try:
            as_of = dt.date.fromisoformat(args.as_of) if args.as_of else default_as_of(today or dt.date.today())
        except ValueError:
            raise SmokeStop(f"--as-of {args.as_of!r}: a date as YYYY-MM-DD", EXIT_USAGE) from None
        result = run_smoke(args.stack, symbol, as_of, chain=chain or AwsChain(), say=say,
                           timeout_s=args.timeout_min * 60, **kwargs)
    except SmokeStop as stop:
        say(f"smoke: {stop}")
        return stop.exit_code
    except Exception as exc:  # an AWS refusal mid-chain (throttled, access denied): its words, no trace
        from botocore.exceptions import BotoCoreError, ClientError

        if not isinstance(exc, (ClientError, BotoCoreError)):
            raise
        say(f"smoke: AWS refused a step: {_aws_error(exc)}")
        return EXIT_UNEXPECTED
    say(f"smoke passed: {symbol} {as_of} went through {args.stack} (run {result['run_id']})")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
