"""`tickerlake serve verify` and the dashboard's serving health: the serving table against the
published table, through the ports (the comparison itself is glue_jobs/serve/compare.py).

One pass over each side builds per-symbol counts and checksums; only the symbols whose
summaries differ are read again, row by row, to name each difference. Memory stays within a
partition's batch and the per-symbol summaries, whatever the lake's size."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass

from glue_jobs.lake import layout, parquet
from glue_jobs.lake.errors import EXIT_SERVING_MISMATCH, PipelineError
from glue_jobs.ports.catalog import Catalog
from glue_jobs.ports.serving import Bar, ServingTable
from glue_jobs.ports.storage import NotFound, Storage
from glue_jobs.serve import compare, published

log = logging.getLogger(__name__)

DETAIL_SYMBOLS = 20  # symbols whose differences are named row by row; the rest are counted



class ServingMismatch(PipelineError):
    """serve verify found differences (each named on stdout)."""

    exit_code = EXIT_SERVING_MISMATCH


@dataclass
class Health:
    report: compare.VerifyReport
    lag: compare.Lag


def verify(storage: Storage, catalog: Catalog, serving: ServingTable, *,
           detail_symbols: int = DETAIL_SYMBOLS, say: Callable[[str], None] | None = None) -> compare.VerifyReport:
    return health(storage, catalog, serving, detail_symbols=detail_symbols, say=say).report


def health(storage: Storage, catalog: Catalog, serving: ServingTable, *,
           detail_symbols: int = DETAIL_SYMBOLS, say: Callable[[str], None] | None = None) -> Health:
    parts = published.partitions(storage, catalog)
    pub: dict[str, compare.SymbolSummary] = {}
    unreadable: list[str] = []
    for i, part in enumerate(parts, 1):
        try:
            for batch in published.bars(storage, part):
                compare.summarize(batch, pub)
        except Exception as exc:  # a damaged partition is named, the others still compared
            log.warning("published partition %s at %s cannot be read: %s", part.label, part.location, exc)
            unreadable.append(f"{part.label} ({part.location}): {type(exc).__name__}: {exc}")
        if say:
            say(f"  published {part.label} ({i}/{len(parts)})")
    srv = compare.summarize(serving.scan())
    if say:
        say(f"  serving table: {sum(s.rows for s in srv.values())} rows, {len(srv)} symbols")
    mismatched = compare.mismatched_symbols(pub, srv)
    detailed = mismatched[:detail_symbols]
    differences: list[compare.Difference] = []
    if detailed:
        wanted = set(detailed)
        pub_rows: dict[str, list[Bar]] = {s: [] for s in detailed}
        for part in parts:
            try:
                for batch in published.bars(storage, part, symbols=wanted):
                    for bar in batch:
                        pub_rows[bar.symbol].append(bar)
            except Exception:  # already named as unreadable above
                continue
        for sym in detailed:
            differences += compare.diff_rows(pub_rows[sym], serving.get_bars(sym))
    report = compare.report(pub, srv, differences, unreadable)
    report.mismatched = mismatched
    newest_serving = max((s.newest_version for s in srv.values()), default="") or None
    # Every published version: the manifests' (a rollback's too) and the current partitions' (a
    # partition published before the event path existed has no manifest, only its location's run).
    versions = set(published.published_versions(storage)) | {p.version for p in parts if p.version}
    return Health(report, compare.lag(versions, newest_serving))


@dataclass
class Glance:
    """What the dashboard shows on every render, in the time of a count: the lag, both sides' row
    counts, and the last full comparison (`serve verify`, which reads every row of both sides:
    minutes on a large lake, so it is a command, not part of each page)."""
    rows_published: int
    rows_serving: int
    lag: compare.Lag
    last_verify: dict | None


def glance(storage: Storage, catalog: Catalog, serving: ServingTable) -> Glance:
    parts = published.partitions(storage, catalog)
    rows_published = sum(parquet.row_count(storage, p.location) for p in parts)  # from the footers
    rows_serving, newest_serving = serving.totals()
    versions = set(published.published_versions(storage)) | {p.version for p in parts if p.version}
    return Glance(rows_published, rows_serving, compare.lag(versions, newest_serving), last_verify(storage))


def record_verify(storage: Storage, report: compare.VerifyReport, at: str, *, shown: int = 10) -> None:
    """Keep what the last verify found (its first differences named) for the dashboard."""
    doc = {"at": at, "equal": report.equal, "rows_published": report.rows_published,
           "rows_serving": report.rows_serving, "symbols_differing": len(report.mismatched),
           "differences": [asdict(d) for d in report.differences[:shown]], "unreadable": report.unreadable}
    storage.put_bytes(layout.SERVING_VERIFY_KEY, (json.dumps(doc, indent=1) + "\n").encode())


def last_verify(storage: Storage) -> dict | None:
    try:
        return json.loads(storage.get_bytes(layout.SERVING_VERIFY_KEY))
    except (NotFound, ValueError):
        return None


def describe(report: compare.VerifyReport, *, limit: int = 200) -> list[str]:
    """The lines verify prints: totals, then each difference named (up to `limit`)."""
    lines = [f"published: {report.rows_published} rows, {report.symbols_published} symbols; "
             f"serving table: {report.rows_serving} rows, {report.symbols_serving} symbols"]
    for problem in report.unreadable:
        lines.append(f"unreadable published partition: {problem}")
    if report.equal:
        lines.append("equal: every symbol has the same rows and values (counts and checksums match)")
        return lines
    counted = ", ".join(f"{n} {kind}" for kind, n in sorted(report.counts.items()))
    lines.append(f"{len(report.mismatched)} symbol{'s' if len(report.mismatched) != 1 else ''} differ"
                 + (f" ({counted} in the first {min(len(report.mismatched), DETAIL_SYMBOLS)})" if counted else ""))
    for d in report.differences[:limit]:
        lines.append("  " + d.describe())
    if len(report.differences) > limit:
        lines.append(f"  ... {len(report.differences) - limit} more differences")
    undetailed = report.mismatched[DETAIL_SYMBOLS:]
    if undetailed:
        lines.append(f"  {len(undetailed)} more symbols differ (not detailed): {', '.join(undetailed[:20])}"
                     + (" ..." if len(undetailed) > 20 else ""))
    return lines
