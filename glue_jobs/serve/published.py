"""The published table (stocks.daily_prices) as serving-table rows: each catalogued partition
read from its current location, one Parquet batch at a time, and the version each partition's
rows carry in the serving table.

A partition's version is the newest published manifest (manifests/published/<run_id>.json)
that lists it: what the loader writes for it. A rollback writes a manifest under its own,
newer run id, so rolled-back rows carry the rollback's version. A partition no manifest names
(published before the event path existed) takes the run in its location (`…/v=<run>/`)."""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from glue_jobs.lake import layout, parquet
from glue_jobs.ports.catalog import Catalog, Partition
from glue_jobs.ports.serving import Bar, BarColumns
from glue_jobs.ports.storage import Storage

log = logging.getLogger(__name__)

MANIFEST_PREFIX = layout.PUBLISHED_MARKER_PREFIX  # "manifests/published/": the manifests sit directly in it
_RUN_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-z]+$")
COLUMNS = ("symbol", "trade_date", "open", "high", "low", "close", "volume", "ingest_run_id")
BATCH_ROWS = 65_536


@dataclass(frozen=True)
class PublishedPartition:
    values: dict[str, str]
    location: str
    version: str

    @property
    def label(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.values.items())

    @property
    def date_range(self) -> tuple[str | None, str | None]:
        """The trade dates the partition can hold (its year), for reading the serving side."""
        year = self.values.get("trade_year")
        if year and year.isdigit():
            return f"{year}-01-01", f"{year}-12-31"
        return None, None


def manifests(storage: Storage) -> list[dict]:
    """Every published manifest, oldest first. The older per-ingest-run markers beside them
    (manifests/published/ingest_date=D/…) are not manifests and are skipped; so is a manifest
    that does not parse (the loader reports it; here it only cannot name a version)."""
    out = []
    for key in storage.list_keys(MANIFEST_PREFIX):
        name = key[len(MANIFEST_PREFIX):]
        if "/" in name or not name.endswith(".json") or not _RUN_ID.match(name[:-5]):
            continue
        try:
            doc = json.loads(storage.get_bytes(key))
        except (ValueError, OSError) as exc:
            log.warning("published manifest %s does not parse: %s", key, exc)
            continue
        if isinstance(doc, dict):
            doc.setdefault("version", doc.get("run_id") or name[:-5])
            out.append(doc)
    return sorted(out, key=lambda d: str(d["version"]))


def published_versions(storage: Storage) -> list[str]:
    return [str(d["version"]) for d in manifests(storage)]


def _location_version(location: str) -> str:
    return layout.parse_hive_key(location).get("v", "")


def partitions(storage: Storage, catalog: Catalog) -> list[PublishedPartition]:
    """The published table's partitions as the catalog points to them now, with their versions;
    none when the table does not exist yet."""
    if catalog.get_table(layout.DATABASE, layout.PUBLISHED_TABLE) is None:
        return []
    newest: dict[tuple, str] = {}
    for doc in manifests(storage):
        for part in doc.get("partitions") or []:
            values = part.get("values") if isinstance(part, dict) else None
            if isinstance(values, dict):
                # keyed by location too: a manifest names the partition's version only while the
                # catalog still points where that manifest switched it
                newest[(tuple(sorted((str(k), str(v)) for k, v in values.items())), str(part.get("location")))] \
                    = str(doc["version"])
    out = []
    for p in catalog.list_partitions(layout.DATABASE, layout.PUBLISHED_TABLE):
        key = tuple(sorted((str(k), str(v)) for k, v in p.values.items()))
        out.append(PublishedPartition(dict(p.values), p.location,
                                      newest.get((key, p.location)) or _location_version(p.location)))
    return out


def price(value: float) -> Decimal:
    """A published double as the exact decimal of its shortest text: 185.64, not 185.6399999…"""
    return Decimal(repr(float(value)))


def price_texts(values: Sequence[float]) -> list[str]:
    """[str(price(v)) for v in values], the text the per-row path stores, without a Decimal a
    value. For a finite double, repr is the shortest text that reads back as it; Decimal keeps
    that text's digits and exponent, and str gives them back unchanged unless repr wrote an
    exponent (1e-05, 1e+16), which Decimal writes its own way (0.00001, 1E+16), or the value is
    not finite (nan, inf). Only those (none in real prices) go through the Decimal."""
    texts = list(map(repr, values))
    joined = "|".join(texts)
    if "e" in joined or "n" in joined:  # an exponent, nan or inf somewhere
        for i, text in enumerate(texts):
            if "e" in text or "n" in text:
                texts[i] = str(price(values[i]))
    return texts


def _table(storage: Storage, partition: PublishedPartition):
    """The partition's files as one Arrow table of COLUMNS (None when it has no files)."""
    import pyarrow as pa

    tables = []
    for key in parquet.data_files(storage, partition.location):
        file = parquet.open_file(storage, key)
        names = file.schema_arrow.names
        # A partition written before the ingest_run_id rename holds `run_id` (glue_jobs/lake/migrate.py).
        run_column = "ingest_run_id" if "ingest_run_id" in names else "run_id"
        table = file.read(columns=[c if c != "ingest_run_id" else run_column for c in COLUMNS])
        tables.append(table.rename_columns(list(COLUMNS)))
    if not tables:
        return None
    return pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]


def columns(storage: Storage, partition: PublishedPartition, *, batch_rows: int = 250_000) -> Iterator[BarColumns]:
    """The partition's rows as BarColumns in key order (symbol, trade date), `batch_rows` at a
    time: the same rows, texts and version as by_symbol's Bars (the bulk path of a rebuild into
    an empty table), at a fraction of the cost. A null key, price or volume, which by_symbol
    cannot make a Bar of either, raises ValueError naming the partition and the column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = _table(storage, partition)
    if table is None:
        return
    for name in COLUMNS[:-1]:
        nulls = table.column(name).null_count
        if nulls:
            raise ValueError(f"published partition {partition.label} ({partition.location}): {nulls} row(s) "
                             f"with no {name}; a serving-table row needs one")
    table = table.sort_by([("symbol", "ascending"), ("trade_date", "ascending")])
    for start in range(0, table.num_rows, batch_rows):
        part = table.slice(start, batch_rows)
        prices = [price_texts(part.column(c).cast(pa.float64()).to_pylist()) for c in ("open", "high", "low", "close")]
        yield BarColumns(
            symbol=part.column("symbol").to_pylist(),
            trade_date=pc.cast(part.column("trade_date"), pa.string()).to_pylist(),
            open=prices[0], high=prices[1], low=prices[2], close=prices[3],
            volume=part.column("volume").cast(pa.int64()).to_pylist(),
            ingest_run_id=pc.fill_null(part.column("ingest_run_id").cast(pa.string()), "").to_pylist(),
            version=partition.version)


def bars(storage: Storage, partition: PublishedPartition, *, symbols: set[str] | None = None,
         batch_rows: int = BATCH_ROWS) -> Iterator[list[Bar]]:
    """The partition's rows as Bars, a batch at a time (memory stays within a batch); with
    `symbols`, only theirs."""
    for key in parquet.data_files(storage, partition.location):
        file = parquet.open_file(storage, key)
        names = file.schema_arrow.names
        # A partition written before the ingest_run_id rename holds `run_id` (glue_jobs/lake/migrate.py).
        run_column = "ingest_run_id" if "ingest_run_id" in names else "run_id"
        wanted = [c if c != "ingest_run_id" else run_column for c in COLUMNS]
        for batch in file.iter_batches(batch_size=batch_rows, columns=wanted):
            cols = [batch.column(i).to_pylist() for i in range(len(wanted))]
            out = []
            for sym, day, o, h, lo, c, vol, run in zip(*cols):
                if symbols is not None and sym not in symbols:
                    continue
                out.append(Bar(sym, day.isoformat(), price(o), price(h), price(lo), price(c), int(vol),
                               run or "", partition.version))
            if out:
                yield out


def by_symbol(storage: Storage, partition: PublishedPartition) -> Iterator[tuple[str, list[Bar]]]:
    """The partition's rows one symbol at a time, in symbol and date order. The partition is held
    as Arrow columns (a year of 5,000 symbols is about 60 MB), never as a million Python objects:
    only one symbol's rows become Bars at a time."""
    table = _table(storage, partition)
    if table is None:
        return
    table = table.sort_by([("symbol", "ascending"), ("trade_date", "ascending")])
    symbols = table.column("symbol").to_pylist()
    start = 0
    while start < len(symbols):
        sym = symbols[start]
        end = start
        while end < len(symbols) and symbols[end] == sym:
            end += 1
        part = table.slice(start, end - start)
        cols = [part.column(i).to_pylist() for i in range(1, len(COLUMNS))]
        yield sym, [Bar(sym, day.isoformat(), price(o), price(h), price(lo), price(c), int(vol), run or "",
                        partition.version)
                    for day, o, h, lo, c, vol, run in zip(*cols)]
        start = end


def describe(partition: Partition | PublishedPartition) -> str:
    return ",".join(f"{k}={v}" for k, v in partition.values.items())
