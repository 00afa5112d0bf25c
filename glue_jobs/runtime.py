"""The one place that reads a lake's URI and chooses the adapters for it.

    runtime = open_runtime("lake")                      # a directory: files, JSON catalog, DuckDB
    runtime = open_runtime("s3://bucket/prefix",        # S3, the Glue catalog, Athena, SNS
                           workgroup="tickerlake")
    ctx = runtime.context(run_id, as_of, settings={...})

Every command, the Glue jobs and the Lambda build their adapters here, so the same `--lake`
value means the same lake everywhere. Nothing else imports an adapter.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from glue_jobs.lake import trading_calendar
from glue_jobs.lake.context import RunContext, new_run_id, open_serving_once
from glue_jobs.lake.errors import ConfigError
from glue_jobs.lake.layout import DATABASE
from glue_jobs.ports.catalog import Catalog
from glue_jobs.ports.engine import Engine
from glue_jobs.ports.notifier import Notifier
from glue_jobs.ports.storage import Storage

log = logging.getLogger("tickerlake.runtime")

SUPPORTED = "a directory (e.g. ./lake) or s3://bucket[/prefix]"
ENV_WORKGROUP = "TICKERLAKE_WORKGROUP"
ENV_TOPIC_ARN = "TICKERLAKE_TOPIC_ARN"
ENV_SERVING_TABLE = "TICKERLAKE_SERVING_TABLE"
ENV_TOKEN_BUCKET_TABLE = "TICKERLAKE_TOKEN_BUCKET_TABLE"
# A queue's URL on AWS, by its name: TICKERLAKE_QUEUE_URL_INGEST, TICKERLAKE_QUEUE_URL_INGEST_DLQ
ENV_QUEUE_URL_PREFIX = "TICKERLAKE_QUEUE_URL_"
SERVING_FILE = "serving/bars.sqlite"  # under a local lake
# The intraday stream: Kinesis by name or an SQS FIFO queue by URL on AWS (the stack's
# StreamTransport parameter decides which one it makes); locally <lake>/stream/quotes.sqlite.
ENV_STREAM_NAME = "TICKERLAKE_STREAM_NAME"
ENV_STREAM_QUEUE_URL = "TICKERLAKE_STREAM_QUEUE_URL"
ENV_STREAM_SHARDS = "TICKERLAKE_STREAM_SHARDS"  # a new local log's shard count (default 1)
STREAM_NAME = "quotes"
ENV_QUOTES_TABLE = "TICKERLAKE_QUOTES_TABLE"  # the intraday `quotes` table (issue 14)
QUOTES_FILE = "serving/quotes.sqlite"


def start_audit_worker(lake: str) -> None:
    """Start the Great Expectations worker a local lake's audit validates through (the process's
    one, which its runtime gives every context) now, at a command's start: its GE import, seconds
    of CPU, then runs on the other core from the start instead of from the run's first stage.
    Nothing for an s3 lake, whose audit imports GE in place."""
    if lake_kind(lake) == "local":
        from glue_jobs.audit import ge_worker

        ge_worker.shared().start()


def lake_kind(lake: str) -> str:
    """"local" or "aws" for a --lake value; any other URI scheme is a usage error."""
    if not lake or not lake.strip():
        raise ConfigError(f"--lake is empty: give {SUPPORTED}")
    scheme, sep, rest = lake.partition("://")
    if not sep:
        return "local"
    if scheme == "s3":
        if not rest.split("/", 1)[0]:
            raise ConfigError(f"--lake {lake!r} names no bucket: use s3://bucket[/prefix]")
        return "aws"
    raise ConfigError(f"--lake {lake!r}: the {scheme}:// scheme is not supported; a lake is {SUPPORTED}")


class NoEngine:
    """The engine of an s3 lake opened without an Athena workgroup: commands that only read and
    write objects and the catalog (runs, janitor, set-aside) work; one that runs SQL says what
    is missing instead of failing somewhere inside boto3."""

    def __init__(self, lake: str):
        self.lake = lake

    def _missing(self, *_: Any, **__: Any) -> Any:
        raise ConfigError(f"running SQL on {self.lake} needs an Athena workgroup: pass --workgroup NAME "
                          f"or set {ENV_WORKGROUP} (the stack output AthenaWorkGroupName)")

    query = execute = write_parquet = read_only_query = _missing


@dataclass
class Runtime:
    """The adapters for one lake: where objects live, the catalog, the SQL engine, the notifier."""

    lake: str
    kind: str  # "local" or "aws"
    storage: Storage
    catalog: Catalog
    engine: Engine
    notifier: Notifier
    settings: dict[str, Any] = field(default_factory=dict)  # what the runtime itself was given
    # Opens the serving table (glue_jobs.ports.serving.ServingTable) when first asked for.
    serving_factory: Callable[[], Any] | None = field(default=None, repr=False)

    @property
    def serving(self) -> Any:
        """The serving table, opened once; a ConfigError naming what is missing when there is none."""
        return open_serving_once(self, self.serving_factory, self.lake)

    # Opens a queue by name (glue_jobs.ports.queue.Queue); local lakes only (see RunContext).
    queue_factory: Callable[[str], Any] | None = field(default=None, repr=False)
    # Opens the intraday stream (glue_jobs.ports.stream.Stream) when first asked for.
    stream_factory: Callable[[], Any] | None = field(default=None, repr=False)
    # Opens the intraday `quotes` table (glue_jobs.ports.serving.QuotesTable).
    quotes_factory: Callable[[], Any] | None = field(default=None, repr=False)


    @property
    def stream(self) -> Any:
        """The intraday stream, opened once; a ConfigError naming what is missing when there is none."""
        opened = self.__dict__.get("_stream")
        if opened is None:
            if self.stream_factory is None:
                raise ConfigError(f"{self.lake} has no intraday stream: on AWS set {ENV_STREAM_NAME} (the stack "
                                  f"output StreamName) or {ENV_STREAM_QUEUE_URL} (StreamQueueUrl)")
            opened = self.__dict__["_stream"] = self.stream_factory()
        return opened

    @property
    def quotes(self) -> Any:
        """The `quotes` table, opened once; a ConfigError naming what is missing when there is none."""
        opened = self.__dict__.get("_quotes")
        if opened is None:
            if self.quotes_factory is None:
                raise ConfigError(f"{self.lake} has no quotes table: on AWS set {ENV_QUOTES_TABLE} "
                                  "(the stack output QuotesTableName)")
            opened = self.__dict__["_quotes"] = self.quotes_factory()
        return opened

    # Opens the token bucket a key's workers share (glue_jobs.ports.token_bucket.TokenBucket):
    # token_bucket_factory(name, limits). Local: SQLite in the lake; AWS: the stack's DynamoDB table.
    token_bucket_factory: Callable[[str, Any], Any] | None = field(default=None, repr=False)
    # Where the audit runs Great Expectations: locally a worker process of its own, which imports
    # GE while ingest runs (glue_jobs/audit/ge_worker.py); None on AWS, where the audit is a Glue
    # job of its own and builds GE in place.
    ge_worker: Any = field(default=None, repr=False)

    def token_bucket(self, name: str, limits: Any) -> Any:
        if self.token_bucket_factory is None:
            raise ConfigError(f"{self.lake} has no token-bucket table: set {ENV_TOKEN_BUCKET_TABLE} "
                              "(the stack output TokenBucketTableName)")
        return self.token_bucket_factory(name, limits)

    def context(self, run_id: str | None = None, as_of: dt.date | None = None,
                settings: Mapping[str, Any] | None = None) -> RunContext:
        """A RunContext on these adapters (a new run id and the latest session by default)."""
        return RunContext(
            run_id=run_id or new_run_id(),
            as_of=as_of or trading_calendar.latest_completed_session(),
            storage=self.storage,
            catalog=self.catalog,
            engine=self.engine,
            notifier=self.notifier,
            settings={**self.settings, **dict(settings or {})},
            serving_factory=(lambda: self.serving) if self.serving_factory is not None else None,
            queue_factory=self.queue_factory,
            ge_worker=self.ge_worker,
        )


def open_runtime(lake: str, *, create: bool = False, workgroup: str | None = None,
                 topic_arn: str | None = None, database: str = DATABASE, session: Any = None,
                 env: Mapping[str, str] | None = None) -> Runtime:
    """The adapters for `lake`. A local lake must exist unless `create` (a run makes it; a
    query or an operator command on a missing one is a mistake). On s3 the workgroup and topic
    come from the arguments or TICKERLAKE_WORKGROUP / TICKERLAKE_TOPIC_ARN; `session` is an
    optional boto3 Session (credentials and region from the environment by default)."""
    env = os.environ if env is None else env
    if lake_kind(lake) == "local":
        runtime = _local(lake, create=create)
        runtime.stream_factory = _local_stream(lake, env.get(ENV_STREAM_SHARDS))
        return runtime
    runtime = _aws(lake, workgroup=workgroup or env.get(ENV_WORKGROUP) or None,
                   topic_arn=topic_arn or env.get(ENV_TOPIC_ARN) or None, database=database, session=session,
                   serving_table=env.get(ENV_SERVING_TABLE) or None, quotes_table=env.get(ENV_QUOTES_TABLE) or None)
    runtime.stream_factory = _aws_stream(runtime, env.get(ENV_STREAM_NAME) or None,
                                         env.get(ENV_STREAM_QUEUE_URL) or None, session)
    _aws_fan_out(runtime, env, session)
    return runtime


def local_stream_path(lake: str) -> str:
    """Where a local lake's stream log is (the first `tickerlake stream produce` makes it)."""
    from glue_jobs.adapters.local.stream_sqlite import stream_path

    return stream_path(lake, STREAM_NAME)


def _local_stream(lake: str, shards: str | None) -> Callable[[], Any]:
    count = None
    if shards is not None:
        if not shards.strip().isdigit() or int(shards) < 1:
            raise ConfigError(f"{ENV_STREAM_SHARDS}={shards!r}: give a whole number of shards, 1 or more")
        count = int(shards)

    def stream() -> Any:
        from glue_jobs.adapters.local.stream_sqlite import SqliteStream, stream_path

        return SqliteStream(stream_path(lake, STREAM_NAME), STREAM_NAME, shards=count)

    return stream


def _aws_stream(runtime: Runtime, name: str | None, queue_url: str | None, session: Any) -> Callable[[], Any] | None:
    if name and queue_url:
        raise ConfigError(f"both {ENV_STREAM_NAME} and {ENV_STREAM_QUEUE_URL} are set: the stack makes one "
                          "transport (its StreamTransport parameter); set the one it made")
    if not name and not queue_url:
        return None

    def stream() -> Any:
        if name:
            from glue_jobs.adapters.aws.kinesis_stream import KinesisStream

            return KinesisStream(name, client=session.client("kinesis") if session else None,
                                 storage=runtime.storage)
        from glue_jobs.adapters.aws.sqs_fifo_stream import SqsFifoStream

        return SqsFifoStream(queue_url, client=session.client("sqs") if session else None)

    return stream


def _local(lake: str, *, create: bool) -> Runtime:
    from glue_jobs.lake.extras import require

    require("duckdb", f"the local lake {lake}")
    from glue_jobs.adapters.local.catalog import LocalCatalog
    from glue_jobs.adapters.local.duckdb_engine import DuckDBEngine
    from glue_jobs.adapters.local.notifier import LocalNotifier
    from glue_jobs.adapters.local.storage import LocalStorage

    if create:
        os.makedirs(lake, exist_ok=True)
    elif not os.path.isdir(lake):
        raise ConfigError(f"no lake at {lake}: run `tickerlake run` first, or pass --lake DIR")
    storage = LocalStorage(lake)
    catalog = LocalCatalog(storage)
    def serving() -> Any:
        from glue_jobs.adapters.local.serving_sqlite import SqliteServingTable

        return SqliteServingTable(os.path.join(lake, SERVING_FILE))

    def queue(name: str) -> Any:
        from glue_jobs.adapters.local.queue_sqlite import SqliteQueue, queue_path

        return SqliteQueue(queue_path(lake, name), name)

    def token_bucket(name: str, limits: Any) -> Any:
        from glue_jobs.adapters.local.token_bucket_sqlite import SqliteTokenBucket, bucket_path

        return SqliteTokenBucket(bucket_path(lake), name, limits)

    def quotes() -> Any:
        from glue_jobs.adapters.local.quotes_sqlite import SqliteQuotesTable

        return SqliteQuotesTable(os.path.join(lake, QUOTES_FILE))

    from glue_jobs.audit import ge_worker

    return Runtime(lake, "local", storage, catalog, DuckDBEngine(storage, catalog), LocalNotifier(storage),
                   {"runtime": "local"}, serving_factory=serving, queue_factory=queue, quotes_factory=quotes,
                   token_bucket_factory=token_bucket, ge_worker=ge_worker.shared())


def _aws(lake: str, *, workgroup: str | None, topic_arn: str | None, database: str, session: Any,
         serving_table: str | None = None, quotes_table: str | None = None) -> Runtime:
    from glue_jobs.adapters.aws.glue_catalog import GlueCatalog
    from glue_jobs.adapters.aws.s3_storage import S3Storage
    from glue_jobs.adapters.aws.sns_notifier import SnsNotifier
    from glue_jobs.adapters.log_notifier import LogNotifier

    if session is None:
        import boto3

        session = boto3.session.Session()
    storage = S3Storage.from_uri(lake, client=session.client("s3"))
    glue = session.client("glue")
    catalog = GlueCatalog(storage.root, client=glue)
    engine: Engine
    if workgroup:
        # imported only here: it needs pyarrow, and the Lambda functions (no workgroup) run
        # from a bundle without it (infra/package.py BUNDLES)
        from glue_jobs.adapters.aws.athena_engine import AthenaEngine

        engine = AthenaEngine(workgroup=workgroup, storage=storage, database=database,
                              client=session.client("athena"))
    else:
        engine = NoEngine(lake)  # type: ignore[assignment]
    notifier = SnsNotifier(topic_arn, client=session.client("sns"), storage=storage) if topic_arn else LogNotifier()
    def serving() -> Any:
        from glue_jobs.adapters.aws.serving_dynamodb import DynamoServingTable

        return DynamoServingTable(serving_table, client=session.client("dynamodb"))

    def quotes() -> Any:
        from glue_jobs.adapters.aws.quotes_dynamodb import DynamoQuotesTable

        return DynamoQuotesTable(quotes_table, client=session.client("dynamodb"))

    return Runtime(lake, "aws", storage, catalog, engine, notifier,
                   {"runtime": "aws", "workgroup": workgroup, "database": database},
                   serving_factory=serving if serving_table else None,
                   quotes_factory=quotes if quotes_table else None)


def _aws_fan_out(runtime: Runtime, env: Mapping[str, str], session: Any) -> None:
    """The fan-out's queues (by name, from TICKERLAKE_QUEUE_URL_<NAME>) and token-bucket table."""
    urls = {k[len(ENV_QUEUE_URL_PREFIX):].lower().replace("_", "-"): v for k, v in env.items()
            if k.startswith(ENV_QUEUE_URL_PREFIX) and v}
    table = env.get(ENV_TOKEN_BUCKET_TABLE) or None

    def client(name: str) -> Any:
        if session is not None:
            return session.client(name)
        import boto3

        return boto3.client(name)

    def queue(name: str) -> Any:
        from glue_jobs.adapters.aws.sqs_queue import SqsQueue

        if name not in urls:
            raise ConfigError(f"queue {name!r} has no URL: set {ENV_QUEUE_URL_PREFIX}{name.upper().replace('-', '_')}")
        return SqsQueue(urls[name], client=client("sqs"))

    def token_bucket(name: str, limits: Any) -> Any:
        from glue_jobs.adapters.aws.token_bucket_dynamodb import DynamoTokenBucket

        return DynamoTokenBucket(table, name, limits, client=client("dynamodb"))

    if urls:
        runtime.queue_factory = queue
    if table:
        runtime.token_bucket_factory = token_bucket


# -- shorthands for tests, benchmarks and a notebook ------------------------------------------


def build_local(lake_dir: str | os.PathLike[str]):
    """(storage, catalog, engine, notifier) for a local lake in `lake_dir` (created if absent)."""
    runtime = open_runtime(os.fspath(lake_dir), create=True)
    return runtime.storage, runtime.catalog, runtime.engine, runtime.notifier


def local_context(lake_dir: str | os.PathLike[str], *, run_id: str | None = None, as_of: dt.date | None = None,
                  settings: Mapping[str, Any] | None = None) -> RunContext:
    """A RunContext on a local lake in `lake_dir` (created if absent)."""
    return open_runtime(os.fspath(lake_dir), create=True).context(run_id, as_of, settings)


def serving_write_units(bars: Iterable[Any]) -> int:
    """DynamoDB write request units to put `bars` into the AWS serving table (the bench prints
    what a day and a backfill would cost there from the counts it measures locally)."""
    from glue_jobs.adapters.aws.serving_dynamodb import write_units

    return sum(write_units(bar) for bar in bars)
