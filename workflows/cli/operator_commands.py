"""The operator's subcommands: janitor, rollback, set-aside, requeue, doctor (wired in workflows/cli/main.py
through workflows/cli/commands.py). Each works on a local lake or an s3:// one (with Glue)."""
from __future__ import annotations

import argparse
import datetime as dt
import os

from glue_jobs.lake.errors import EXIT_DOCTOR_PROBLEMS, ConfigError, PipelineError
from workflows.runner import open_lake


def _retention(args: argparse.Namespace) -> dt.timedelta:
    value = args.retention_days
    if value is None and os.environ.get("TICKERLAKE_RETENTION_DAYS"):
        try:
            value = float(os.environ["TICKERLAKE_RETENTION_DAYS"])
        except ValueError:
            raise ConfigError(f"TICKERLAKE_RETENTION_DAYS={os.environ['TICKERLAKE_RETENTION_DAYS']!r} "
                              f"is not a number of days") from None
    if value is None:
        from glue_jobs.ops.janitor_plan import DEFAULT_RETENTION

        return DEFAULT_RETENTION
    if value < 0:
        raise ConfigError(f"--retention-days must be zero or more, got {value:g}")
    return dt.timedelta(days=value)


def cmd_janitor(args: argparse.Namespace) -> int:
    from glue_jobs.ops import janitor
    runtime = open_lake(args.settings)
    storage, catalog = runtime.storage, runtime.catalog
    report = janitor.run(storage, catalog, dry_run=args.dry_run, retention=_retention(args))
    print("\n".join(report["lines"]))
    if args.dry_run and report["deletions"]:
        print("nothing was deleted (dry run); run `tickerlake janitor` without --dry-run to delete the above")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from glue_jobs.ops import rollback

    ctx = _admin_context(args.settings)
    summary = rollback.run(ctx, args.run, force=args.force, dry_run=args.dry_run)
    print("\n".join(rollback.describe(summary)))
    if not args.dry_run:
        print(f"  recorded in {ctx.storage.uri('runs/' + ctx.run_id + '.json')}")
    if summary.get("published_manifest"):
        _serve_rollback(ctx, summary["published_manifest"])
    return 1 if summary.get("refusal") else 0


def _serve_rollback(ctx, manifest: str) -> None:
    """The serving table follows the rollback at once, as it does on AWS, where the manifest's
    creation is the event: locally nothing else would carry it until the next run."""
    if ctx.queue_factory is None:
        print(f"  the serving table follows through the event path ({manifest})")
        return
    from glue_jobs.serve.sync import sync
    result = sync(ctx)
    print("\n".join("  " + line for line in result.describe()))
    if manifest not in result.loaded_manifests:
        print(f"  the serving table did not take {manifest} yet: run `tickerlake serve sync`")


def cmd_set_aside(args: argparse.Namespace) -> int:
    from glue_jobs.ops import set_aside
    storage = open_lake(args.settings).storage
    marker = set_aside.set_aside(storage, args.ingest_run, args.reason)
    print(f"ingest run {args.ingest_run} (ingest date {marker['ingest_date']}) is set aside: its bodies stay "
          f"in raw, no WAP processes it. Reason recorded at {storage.uri(marker['marker_key'])}")
    print(f"  undo with: tickerlake requeue --ingest-run {args.ingest_run}")
    print("  next: tickerlake wap")
    return 0


def cmd_requeue(args: argparse.Namespace) -> int:
    from glue_jobs.ops import set_aside
    storage = open_lake(args.settings).storage
    result = set_aside.requeue(storage, args.ingest_run)
    if result["removed"]:
        print(f"ingest run {args.ingest_run} is pending again (removed {', '.join(result['removed'])}); "
              f"the next `tickerlake wap` processes it")
    else:
        print(f"ingest run {args.ingest_run} was pending already: nothing to do")
    return 0


# `tickerlake doctor` found problems that remain (after --repair: that it could not repair)


def cmd_doctor(args: argparse.Namespace) -> int:
    from glue_jobs.ops import doctor, doctor_plan

    runtime = open_lake(args.settings)
    storage, catalog = runtime.storage, runtime.catalog
    unfinished = False
    if args.repair:
        ctx = _admin_context(args.settings)
        result = doctor.repair(storage, catalog, ctx.run_id)
        for line in result["done"]:
            print(f"doctor: {line}")
        if result["requeued"]:
            from workflows.runner import run_wap

            print(f"doctor: re-publishing from raw: requeued {len(result['requeued'])} ingest run(s), running the WAP")
            try:
                run_wap(ctx)
            except PipelineError as exc:  # the restored versions stand; the requeued runs stay pending
                unfinished = True
                print(f"doctor: the re-publish failed ({exc}); the damaged partitions stay on the versions "
                      f"named above, and the requeued ingest runs ({', '.join(result['requeued'])}) stay pending: "
                      f"fix the cause, then run `tickerlake wap`")
        elif result["republish"]:
            print("doctor: nothing to re-publish from raw (no published ingest run); the restored versions stand")
        unfinished |= _summarize(ctx)
        print(f"  recorded in {storage.uri('maintenance/doctor/' + ctx.run_id + '/report.json')}")
    problems = doctor.check(storage, catalog)
    print("\n".join(doctor_plan.describe(problems, lake=storage.root if hasattr(storage, "root") else "")))
    return EXIT_DOCTOR_PROBLEMS if doctor_plan.errors(problems) or unfinished else 0


def _summarize(ctx) -> bool:
    """stocks.symbol_years in step with the prices the repair left (True: it could not be)."""
    from glue_jobs.lake import symbol_years
    from glue_jobs.lake.lock import LakeLock

    if ctx.engine is None:
        print("doctor: stocks.symbol_years is left to the next run's after publish (no engine here)")
        return False
    try:
        with LakeLock(ctx.storage, ctx.run_id):
            done = symbol_years.sync(ctx)
    except Exception as exc:  # what the repair did stands; the summary says why it is behind
        print(f"doctor: bringing stocks.symbol_years in step failed ({type(exc).__name__}: {exc}); "
              f"the next run's after publish tries again")
        return True
    if done.get("symbol_years_written"):
        print(f"doctor: stocks.symbol_years: wrote the summary of trade_year {', '.join(done['symbol_years_written'])}")
    if done.get("symbol_years_reused"):
        print(f"doctor: stocks.symbol_years: switched trade_year {', '.join(done['symbol_years_reused'])} to the "
              f"summary already written for its version")
    return False


def _admin_context(settings):
    """A RunContext for an operator command on the lake's own runtime (on s3 without a
    workgroup, the ledger row is left to the next pipeline run)."""
    return open_lake(settings).context(as_of=settings.as_of)
