"""Every key in the lake is built here, so the layout is read in one place.

    raw/daily/ingest_date=D/symbol=S/run_id=R/body.csv      bytes exactly as received (data)
    rejected/daily/ingest_date=D/symbol=S/run_id=R/body[-N].<ext> + reason[-N].json   non-data bodies
    manifests/ingest/ingest_date=D/run_id=R.json            what one ingest run fetched
    manifests/published/ingest_date=D/run_id=R.json         that WAP published that ingest run
    manifests/published/<run_id>.json                       what one publish (or rollback) switched: the
                                                            serving table's event (S3 -> EventBridge -> SQS)
    manifests/set_aside/ingest_date=D/run_id=R.json         that an operator set the ingest run aside
    manifests/drops/sha256=H.json                           a dropped file (by content): landing, then landed
    inbox/<name>.csv                                        (AWS) where users drop files; the handler moves them
    drops/received/sha256=H/<name>                          a dropped file's bytes as received
    rejected/drops/sha256=H/<name> + <name>.reason          a dropped file that was refused, and why
    state/ingestion.json                                    carried symbols, daily quota used
    state/serving_events.json                               (local) manifests already announced on the queue
    state/serving_verify.json                               the last `serve verify`: when, and what differed
    catalog/<database>/<table>.json                         local catalog (tables, partitions)
    catalog/<database>/<table>/history/<stamp>-<digest>.json every version of that document
    tmp/<table>/run_id=R/...                                WAP temporary tables
    tmp/publish/warehouse/.../v=R/<first>/...               a merged segment before publish carries it in
    warehouse/<table>/<partition>/v=R/part-0.parquet        published partition versions
    warehouse/daily_prices/trade_year=Y/v=R/seg-<first>-<last>-<n>.parquet   a year's segments
    warehouse/<table>/<partition>/v=R/_manifest.json        its files, row counts, checksums
    runs/<run_id>.json                                      run log
    alerts/alerts.jsonl                                     alerts sent (local notifier)
    locks/pipeline.lock                                     one writer at a time
    maintenance/janitor/<run_id>.json                       what a janitor run deleted
    maintenance/doctor/<run_id>/...                         damaged files a doctor repair set aside

`run_id` in a key is the run that wrote it: the ingest run under raw/, rejected/ and
manifests/, the pipeline run under tmp/, warehouse/ versions and runs/. The columns say which:
the ingest run is `ingest_run_id` in every table (stocks.daily_prices, the temp tables, and the
raw table's third partition key), the pipeline run `run_id`.

Raw objects keep their `run_id=R` segment: they are the immutable record of what was received,
never moved or rewritten, so keys written before and after the column was renamed look alike.
The catalogs register a partition's values by position, not by the path's names: Glue's
Values list follows the table's PartitionKeys, and its crawler (AddOrUpdateBehavior
InheritFromTable) registers a new raw folder under the table's keys; the local crawl
(glue_jobs/wap/crawl.py) does the same with RAW_PARTITION_SEGMENTS, and the local engine reads
a partition's values from its location's hive segments by position, whatever they are called.
"""
from __future__ import annotations

import hashlib

DATABASE = "stocks"

RAW_PREFIX = "raw/daily/"
REJECTED_PREFIX = "rejected/daily/"
MANIFEST_PREFIX = "manifests/ingest/"
PUBLISHED_MARKER_PREFIX = "manifests/published/"
SET_ASIDE_PREFIX = "manifests/set_aside/"
INBOX_PREFIX = "inbox/"
DROP_MARKER_PREFIX = "manifests/drops/"
DROP_RECEIVED_PREFIX = "drops/received/"
DROP_REJECTED_PREFIX = "rejected/drops/"
# A drop's ingest run id is a run id with this mark (20261130T153247Z-drop-3f9a1c): publish's merge
# and write_temp's de-duplication rank a dropped bar above a fetched one by it (sql/wap/...), with
# no lookup, on both engines. A drop is deliberate; a scheduled fetch must not undo it.
DROP_RUN_MARK = "-drop-"
# The published manifests sit directly under PUBLISHED_MARKER_PREFIX (no `=` folder), beside the
# ingest runs' markers, which are one folder down (ingest_date=D/): a reader tells them apart by that.
PUBLISHED_MANIFEST_PREFIX = PUBLISHED_MARKER_PREFIX
STATE_KEY = "state/ingestion.json"
SERVING_VERIFY_KEY = "state/serving_verify.json"  # the last full comparison, which the dashboard shows
SERVING_EVENTS_KEY = "state/serving_events.json"  # local lake: the published manifests already put on the queue
CATALOG_PREFIX = "catalog/"
TMP_PREFIX = "tmp/"
WAREHOUSE_PREFIX = "warehouse/"
RUNS_PREFIX = "runs/"
ALERTS_KEY = "alerts/alerts.jsonl"
SENT_PREFIX = "alerts/sent/"  # a marker per alert delivered, so a re-run sends it once
LOCK_KEY = "locks/pipeline.lock"
JANITOR_PREFIX = "maintenance/janitor/"
DOCTOR_PREFIX = "maintenance/doctor/"
VERSION_MANIFEST = "_manifest.json"  # beside a partition version's files (hidden from readers: "_")

RAW_TABLE = "raw_daily"
TEMP_TABLE = "tmp_daily_prices"
PUBLISHED_TABLE = "daily_prices"
QUARANTINE_TABLE = "daily_prices_quarantine"
TEMP_QUARANTINE_TABLE = "tmp_daily_prices_quarantine"
# every row a run fetched, de-duplicated: the series rules' neighbours (TEMP_TABLE holds only
# the rows that are not already published as they are)
TEMP_FETCHED_TABLE = "tmp_daily_prices_fetched"
TEMP_FETCHES_TABLE = "tmp_ingest_fetches"
TEMP_TABLE_PREFIX = "tmp_"  # every table named so is dropped by drop_temp

# The hive segments of a raw key, in order: the values of the raw table's partition keys
# (ingest_date, symbol, ingest_run_id) by position.
RAW_PARTITION_SEGMENTS = ("ingest_date", "symbol", "run_id")


def raw_key(ingest_date: str, symbol: str, run_id: str, ext: str = "csv") -> str:
    return f"{RAW_PREFIX}ingest_date={ingest_date}/symbol={symbol}/run_id={run_id}/body.{ext}"


def _attempt_suffix(attempt: int) -> str:
    # A symbol can be answered badly more than once in a run (a rate-limit page, then a 502):
    # the first answer keeps the plain name, later ones are numbered, so none is overwritten.
    return "" if attempt <= 1 else f"-{attempt}"


def rejected_key(ingest_date: str, symbol: str, run_id: str, ext: str, *, attempt: int = 1) -> str:
    return (
        f"{REJECTED_PREFIX}ingest_date={ingest_date}/symbol={symbol}/run_id={run_id}/"
        f"body{_attempt_suffix(attempt)}.{ext}"
    )


def rejected_reason_key(ingest_date: str, symbol: str, run_id: str, *, attempt: int = 1) -> str:
    return (
        f"{REJECTED_PREFIX}ingest_date={ingest_date}/symbol={symbol}/run_id={run_id}/"
        f"reason{_attempt_suffix(attempt)}.json"
    )


def manifest_key(ingest_date: str, run_id: str) -> str:
    return f"{MANIFEST_PREFIX}ingest_date={ingest_date}/run_id={run_id}.json"


def published_marker_key(ingest_date: str, run_id: str) -> str:
    """Written (create-only) once a WAP has published the ingest run, so no later WAP redoes it."""
    return f"{PUBLISHED_MARKER_PREFIX}ingest_date={ingest_date}/run_id={run_id}.json"


def published_manifest_key(run_id: str) -> str:
    """What the pipeline run (or rollback) `run_id` switched in stocks.daily_prices; its creation
    is the event that feeds the serving table."""
    return f"{PUBLISHED_MANIFEST_PREFIX}{run_id}.json"


def is_published_manifest_key(key: str) -> bool:
    """True for manifests/published/<run_id>.json, False for an ingest run's published marker."""
    if not key.startswith(PUBLISHED_MANIFEST_PREFIX) or not key.endswith(".json"):
        return False
    return "/" not in key[len(PUBLISHED_MANIFEST_PREFIX):]


def set_aside_marker_key(ingest_date: str, run_id: str) -> str:
    """Written when an operator sets a bad ingest run aside: it stays in raw, no WAP processes it."""
    return f"{SET_ASIDE_PREFIX}ingest_date={ingest_date}/run_id={run_id}.json"


def drop_marker_key(sha256: str) -> str:
    """Create-only: the drop of this content is landing (or landed) as one ingest run."""
    return f"{DROP_MARKER_PREFIX}sha256={sha256}.json"


def _file_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "drop.csv"
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in base)


def drop_received_key(sha256: str, name: str) -> str:
    return f"{DROP_RECEIVED_PREFIX}sha256={sha256}/{_file_name(name)}"


def drop_rejected_key(sha256: str, name: str) -> str:
    return f"{DROP_REJECTED_PREFIX}sha256={sha256}/{_file_name(name)}"


def drop_reason_key(sha256: str, name: str) -> str:
    return drop_rejected_key(sha256, name) + ".reason"


def is_drop_run(ingest_run_id: str) -> bool:
    return DROP_RUN_MARK in ingest_run_id


def janitor_report_key(run_id: str) -> str:
    return f"{JANITOR_PREFIX}{run_id}.json"


def audit_marker_key(run_id: str) -> str:
    """The audit's verdict for a WAP run; publish refuses to run without a passing one."""
    return f"{TMP_PREFIX}audit/run_id={run_id}/passed.json"


def catalog_key(database: str, table: str) -> str:
    return f"{CATALOG_PREFIX}{database}/{table}.json"


def catalog_history_prefix(database: str, table: str) -> str:
    """Every version of a table's catalog document, oldest first by name: a damaged document is
    restored from here (tickerlake doctor --repair)."""
    return f"{CATALOG_PREFIX}{database}/{table}/history/"


def version_manifest_key(location: str) -> str:
    """The manifest publish writes beside a partition version's files."""
    return (location if location.endswith("/") else location + "/") + VERSION_MANIFEST


def doctor_aside_key(run_id: str, key: str) -> str:
    """Where a doctor repair keeps a damaged file's bytes before it rewrites the file."""
    return f"{DOCTOR_PREFIX}{run_id}/{key}"


def table_prefix(table: str) -> str:
    return f"{WAREHOUSE_PREFIX}{table}/"


def partition_version_prefix(table: str, partition: dict[str, str], version: str) -> str:
    """A fresh location for one partition: readers keep the old one until the catalog switches."""
    parts = "/".join(f"{k}={v}" for k, v in partition.items())
    return f"{WAREHOUSE_PREFIX}{table}/{parts}/v={version}/"


def temp_prefix(table: str, run_id: str) -> str:
    return f"{TMP_PREFIX}{table}/run_id={run_id}/"


def run_log_key(run_id: str) -> str:
    return f"{RUNS_PREFIX}{run_id}.json"


def parse_hive_key(key: str) -> dict[str, str]:
    """The `name=value` segments of a key, in order."""
    out: dict[str, str] = {}
    for seg in key.split("/"):
        if "=" in seg:
            name, _, value = seg.partition("=")
            out[name] = value
    return out


def sent_marker_key(dedupe_key: str) -> str:
    return SENT_PREFIX + hashlib.sha256(dedupe_key.encode()).hexdigest()[:32] + ".json"
