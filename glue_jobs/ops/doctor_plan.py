"""Pure planning for `tickerlake doctor`: given what glue_jobs/ops/doctor.py found in the lake
(catalog documents and their history, each catalogued partition's version checked against
the files recorded at publish, run logs, version manifests, the ingest state, raw bodies no run
will publish), say what is wrong, where, how to fix it, and what `--repair` does about it.
No I/O here.

Repairs never delete anything. What each kind of damage gets:

    catalog document damaged/missing   restored from the newest intact version in its history
    partition version damaged/missing  switched back to the newest intact earlier version the
                                       catalog history or a publish record points to (or to an
                                       empty version when there is none), then re-published from
                                       raw: every published ingest run is requeued and one WAP run
                                       merges them again (latest fetch wins, as at publish)
    version manifest damaged           rewritten from the run log's publish record (or, without
                                       one, from the files when they are readable)
    run log damaged                    set aside, replaced by a stub naming the damage
    ingest state damaged               set aside, rebuilt from the ingest manifests
    ingest manifest damaged            reported only (a record of what was fetched)
    raw bodies without a manifest      reported only (a warning, as the janitor reports them)
    stocks.symbol_years behind         a warning: its summary of a year was made from another
                                       version of the year than the catalog's (the dashboard
                                       reads it); `tickerlake doctor --repair` brings it in step
"""
from __future__ import annotations

from dataclasses import dataclass, field

ERROR = "error"
WARNING = "warning"

# actions --repair takes
RESTORE_DOCUMENT = "restore_document"
SWITCH_PARTITION = "switch_partition"  # then re-publish from raw
REBUILD_MANIFEST = "rebuild_manifest"
STUB_RUN_LOG = "stub_run_log"
REBUILD_STATE = "rebuild_state"
SUMMARIZE = "summarize"  # the command's own step: it needs the engine (glue_jobs/lake/symbol_years.py)


@dataclass(frozen=True)
class HistoryEntry:
    key: str
    intact: bool  # parses, and (sharded tables) its shards are there


@dataclass(frozen=True)
class DocumentFact:
    table: str
    key: str
    state: str  # ok | missing | damaged
    error: str = ""
    history: tuple[HistoryEntry, ...] = ()  # newest first


@dataclass(frozen=True)
class VersionCheck:
    location: str
    problems: tuple[str, ...] = ()
    recorded_by: str = ""  # where its files were recorded: its manifest, or a run log
    ingest_runs: tuple[str, ...] | None = None  # whose rows it held, as recorded (None: unknown)

    @property
    def intact(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class PartitionFact:
    table: str
    partition: str  # "trade_year=2023"
    values: dict
    current: VersionCheck
    earlier: tuple[VersionCheck, ...] = ()  # versions the history points to, newest first


@dataclass(frozen=True)
class RecordFact:
    kind: str  # run log | version manifest | ingest state | ingest manifest
    key: str
    error: str
    rebuild_from: str = ""  # version manifests: "run log <key>" or "files"; state: "ingest manifests"


@dataclass(frozen=True)
class Problem:
    severity: str
    kind: str
    target: str  # the file or location
    what: str
    fix: str
    action: str | None = None  # what --repair does (None: nothing it can do)
    source: str | None = None  # what it restores from
    table: str | None = None
    values: dict = field(default_factory=dict)
    ingest_runs: tuple[str, ...] | None = None  # partitions: what a re-publish requeues (None: every one)

    @property
    def republish(self) -> bool:
        return self.action == SWITCH_PARTITION


def _documents(docs: list[DocumentFact]) -> list[Problem]:
    out = []
    for d in docs:
        if d.state == "ok":
            continue
        intact = [h for h in d.history if h.intact]
        what = (f"catalog document of stocks.{d.table} is missing" if d.state == "missing"
                else f"catalog document of stocks.{d.table} is damaged ({d.error})")
        if intact:
            out.append(Problem(ERROR, "catalog document", d.key, what,
                               f"run `tickerlake doctor --repair`: restores it from its history ({intact[0].key})",
                               RESTORE_DOCUMENT, intact[0].key, d.table))
        else:
            out.append(Problem(ERROR, "catalog document", d.key, what + "; its history holds no intact version",
                               "restore the file from a backup; do not drop it: a re-run registers only the "
                               "partitions it writes (a table built by `tickerlake run` comes back with "
                               "`tickerlake requeue --ingest-run ID` for each ingest run, then `tickerlake wap`)",
                               None, None, d.table))
    return out


def _partitions(parts: list[PartitionFact]) -> list[Problem]:
    out = []
    for p in parts:
        if p.current.intact:
            continue
        where = f"stocks.{p.table} {p.partition}"
        what = f"{where} at {p.current.location}: " + "; ".join(p.current.problems)
        back = next((e for e in p.earlier if e.intact and e.location != p.current.location), None)
        to = (f"switches it back to the earlier intact version {back.location}" if back
              else "switches it to an empty version (no earlier intact version is recorded)")
        out.append(Problem(
            ERROR, "partition", p.current.location, what,
            f"run `tickerlake doctor --repair`: {to}, then re-publishes it from raw (requeues the ingest runs "
            f"whose rows it held and runs the WAP); queries miss or fail on this partition until then",
            SWITCH_PARTITION, back.location if back else None, p.table, dict(p.values), p.current.ingest_runs))
    return out


def _records(records: list[RecordFact]) -> list[Problem]:
    out = []
    for r in records:
        if r.kind == "version manifest":
            if r.rebuild_from:
                out.append(Problem(ERROR, r.kind, r.key, f"version manifest is damaged ({r.error})",
                                   f"run `tickerlake doctor --repair`: rewrites it from {r.rebuild_from} "
                                   f"(the damaged bytes are kept under maintenance/doctor/)",
                                   REBUILD_MANIFEST, r.rebuild_from))
            else:
                out.append(Problem(ERROR, r.kind, r.key, f"version manifest is damaged ({r.error}) and its "
                                   f"files cannot be read either", "see the partition's own problem", None))
        elif r.kind == "run log":
            out.append(Problem(ERROR, r.kind, r.key, f"run log is damaged ({r.error})",
                               "run `tickerlake doctor --repair`: keeps its bytes under maintenance/doctor/ and "
                               "puts a stub in its place (the run's publish record is lost: it can no longer be "
                               "rolled back by `tickerlake rollback`; its partitions keep their manifests)",
                               STUB_RUN_LOG))
        elif r.kind == "ingest state":
            out.append(Problem(ERROR, r.kind, r.key, f"ingest state is damaged ({r.error}); every ingest stops on it",
                               "run `tickerlake doctor --repair`: keeps its bytes under maintenance/doctor/ and "
                               "rebuilds it from the ingest manifests (carried symbols of the newest ingest run, "
                               "calls used per quota day)", REBUILD_STATE, r.rebuild_from or "ingest manifests"))
        else:
            out.append(Problem(ERROR, r.kind, r.key, f"{r.kind} is damaged ({r.error})",
                               "restore it from a backup: it is the record of what an ingest run fetched, and no "
                               "WAP processes that run without it (its raw bodies stay in raw/)", None))
    return out


def _summaries(behind: dict[str, tuple[str, str | None]]) -> list[Problem]:
    """`behind`: trade_year -> (the prices version, the summary the catalog has or None)."""
    return [Problem(WARNING, "symbol_years", f"stocks.symbol_years trade_year={year}",
                    f"behind stocks.daily_prices ({prices}): "
                    + (f"made from another version ({summary})" if summary else "no summary of the year"),
                    "run `tickerlake doctor --repair` (or the next run's after publish): writes the year's "
                    "summary and switches to it; until then the dashboard's symbol list, time range, freshness "
                    "and newest bars miss what changed", SUMMARIZE)
            for year, (prices, summary) in sorted(behind.items())]


def plan(documents: list[DocumentFact], partitions: list[PartitionFact], records: list[RecordFact],
         warnings: list[tuple[str, str]] = (),
         summaries_behind: dict[str, tuple[str, str | None]] | None = None) -> list[Problem]:
    """Every problem found, errors first (documents, partitions, records), then `warnings`
    ((target, text) pairs, e.g. raw bodies no run will publish) and the years whose summary in
    stocks.symbol_years is behind."""
    out = _documents(documents) + _partitions(partitions) + _records(records)
    out += [Problem(WARNING, "raw", target, text, "see the text", None) for target, text in warnings]
    out += _summaries(summaries_behind or {})
    return out


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == ERROR]


def describe(problems: list[Problem], *, lake: str = "") -> list[str]:
    """Lines for people: each problem with its file and its fix."""
    errs, warns = errors(problems), [p for p in problems if p.severity == WARNING]
    if not problems:
        return [f"doctor: the lake {lake} is healthy".replace("  ", " ")]
    lines = [f"doctor: {len(errs)} problem(s), {len(warns)} warning(s)"]
    for p in problems:
        lines.append(f"  {'ERROR' if p.severity == ERROR else 'warning'} [{p.kind}] {p.target}")
        lines.append(f"      {p.what}")
        lines.append(f"      fix: {p.fix}")
    return lines
