"""Pure: how the serving table is compared with the published table (`tickerlake serve verify`,
`serve rebuild` and the dashboard's serving health). No I/O: callers hand in rows as Bars.

A row's identity is (symbol, trade_date); its value is open, high, low, close, volume and
ingest_run_id. The version is left out of the value on purpose: a rollback republishes old rows
under a newer version, and a rebuild rewrites a damaged row under its own; both hold the
published values, which is what a reader gets. Versions are compared separately (the lag).

Prices compare as numbers, not as text: 185.6 and 185.60 are one price (DynamoDB hands back
numbers in its own normal form)."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from glue_jobs.ports.serving import Bar

VALUE_FIELDS = ("open", "high", "low", "close", "volume", "ingest_run_id")
_MASK = (1 << 64) - 1


def _num(value: Decimal | int) -> str:
    """A number's canonical text: Decimal('185.60') and Decimal('185.6') are the same price;
    an integral price keeps no exponent (Decimal('1E+2') reads 100)."""
    d = value if isinstance(value, Decimal) else Decimal(value)
    if d == 0:
        return "0"
    text = format(d.normalize(), "f")
    return text


def value_of(bar: Bar) -> tuple[str, ...]:
    """The fields a reader sees, canonical (the version left out: see the module's docstring)."""
    return (_num(bar.open), _num(bar.high), _num(bar.low), _num(bar.close), _num(bar.volume), bar.ingest_run_id)


def row_hash(bar: Bar) -> int:
    text = "\x1f".join((bar.symbol, bar.trade_date, *value_of(bar)))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


@dataclass
class SymbolSummary:
    """One symbol's rows on one side: how many, an order-insensitive checksum (the sum of the
    rows' hashes, so rows can arrive in any order, partition by partition), the newest version
    and the date range."""
    rows: int = 0
    checksum: int = 0
    newest_version: str = ""
    first_date: str = ""
    last_date: str = ""

    def add(self, bar: Bar) -> None:
        self.rows += 1
        self.checksum = (self.checksum + row_hash(bar)) & _MASK
        if bar.version > self.newest_version:
            self.newest_version = bar.version
        if not self.first_date or bar.trade_date < self.first_date:
            self.first_date = bar.trade_date
        if bar.trade_date > self.last_date:
            self.last_date = bar.trade_date

    def same_rows(self, other: SymbolSummary) -> bool:
        return self.rows == other.rows and self.checksum == other.checksum

    @property
    def checksum_hex(self) -> str:
        return f"{self.checksum:016x}"


def summarize(bars: Iterable[Bar], into: dict[str, SymbolSummary] | None = None) -> dict[str, SymbolSummary]:
    """Per-symbol summaries of `bars`, added to `into` when given (one partition at a time)."""
    out = {} if into is None else into
    for bar in bars:
        summary = out.get(bar.symbol)
        if summary is None:
            summary = out[bar.symbol] = SymbolSummary()
        summary.add(bar)
    return out


def mismatched_symbols(published: Mapping[str, SymbolSummary], serving: Mapping[str, SymbolSummary]) -> list[str]:
    """Symbols whose rows differ by count or checksum, or that only one side has; sorted."""
    names = set(published) | set(serving)
    empty = SymbolSummary()
    return sorted(s for s in names if not published.get(s, empty).same_rows(serving.get(s, empty)))


MISSING = "missing"  # published, not in the serving table
EXTRA = "extra"  # in the serving table, not published
DIFFERENT = "different values"


@dataclass(frozen=True)
class Difference:
    kind: str  # MISSING, EXTRA or DIFFERENT
    symbol: str
    trade_date: str
    fields: tuple[tuple[str, str, str], ...] = ()  # (field, published, serving) for DIFFERENT

    def describe(self) -> str:
        if self.kind == MISSING:
            return f"{self.symbol} {self.trade_date}: missing (published, not in the serving table)"
        if self.kind == EXTRA:
            return f"{self.symbol} {self.trade_date}: extra (in the serving table, not published)"
        changes = ", ".join(f"{name} published {p} serving {s}" for name, p, s in self.fields)
        return f"{self.symbol} {self.trade_date}: different values: {changes}"


def diff_rows(published: Iterable[Bar], serving: Iterable[Bar]) -> list[Difference]:
    """Every key that differs between the two sides' rows (of one symbol or a few), in key order."""
    pub = {b.key: b for b in published}
    srv = {b.key: b for b in serving}
    out: list[Difference] = []
    for key in sorted(set(pub) | set(srv)):
        p, s = pub.get(key), srv.get(key)
        if s is None:
            out.append(Difference(MISSING, *key))
        elif p is None:
            out.append(Difference(EXTRA, *key))
        else:
            pv, sv = value_of(p), value_of(s)
            if pv != sv:
                fields = tuple((n, a, b) for n, a, b in zip(VALUE_FIELDS, pv, sv) if a != b)
                out.append(Difference(DIFFERENT, *key, fields=fields))
    return out


def to_write(published: Iterable[Bar], serving: Iterable[Bar]) -> tuple[list[Bar], list[tuple[str, str]]]:
    """What makes the serving side equal the published side: the published bars that are missing
    or differ, and the keys that are extra. Rows already equal are left alone, so a second
    rebuild writes nothing."""
    srv = {b.key: b for b in serving}
    pub_keys = set()
    writes = []
    for bar in published:
        pub_keys.add(bar.key)
        held = srv.get(bar.key)
        if held is None or value_of(held) != value_of(bar):
            writes.append(bar)
    extras = sorted(k for k in srv if k not in pub_keys)
    return writes, extras


@dataclass
class VerifyReport:
    """verify's answer: per-side totals, the symbols that differ and the differences named."""
    symbols_published: int = 0
    symbols_serving: int = 0
    rows_published: int = 0
    rows_serving: int = 0
    mismatched: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # kind -> how many differences
    unreadable: list[str] = field(default_factory=list)  # published partitions that could not be read

    @property
    def equal(self) -> bool:
        return not self.mismatched and not self.unreadable


def report(published: Mapping[str, SymbolSummary], serving: Mapping[str, SymbolSummary],
           differences: list[Difference], unreadable: list[str] | None = None) -> VerifyReport:
    counts: dict[str, int] = {}
    for d in differences:
        counts[d.kind] = counts.get(d.kind, 0) + 1
    return VerifyReport(
        symbols_published=len(published), symbols_serving=len(serving),
        rows_published=sum(s.rows for s in published.values()),
        rows_serving=sum(s.rows for s in serving.values()),
        mismatched=mismatched_symbols(published, serving), differences=differences, counts=counts,
        unreadable=list(unreadable or []),
    )


def version_time(version: str) -> str | None:
    """The UTC time a run id (`YYYYMMDDTHHMMSSZ-xxxxxx`) was made, ISO, or None for another form."""
    stamp = version.split("-", 1)[0]
    if len(stamp) != 16 or stamp[8] != "T" or not stamp.endswith("Z") or not (stamp[:8] + stamp[9:15]).isdigit():
        return None
    return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}Z"


@dataclass(frozen=True)
class Lag:
    """How far the serving table is behind what was published."""
    newest_published: str | None  # the newest published version (a run id)
    newest_serving: str | None  # the newest version any serving row carries
    versions_behind: int  # published versions newer than anything in the serving table
    seconds_behind: float | None  # between the two versions' run times, when both are run ids

    @property
    def caught_up(self) -> bool:
        return self.versions_behind == 0

    def describe(self) -> str:
        if self.newest_published is None:
            return "nothing published yet"
        if self.caught_up:
            return f"up to date: version {self.newest_serving} (newest published {self.newest_published})"
        behind = f"{self.versions_behind} published version{'s' if self.versions_behind != 1 else ''}"
        age = f", {_duration(self.seconds_behind)}" if self.seconds_behind is not None else ""
        held = self.newest_serving or "no rows"
        return f"behind by {behind}{age}: newest published {self.newest_published}, serving holds {held}"


def lag(published_versions: Iterable[str], newest_serving: str | None) -> Lag:
    """The lag from every published version (run ids; a rollback's too) and the newest version
    in the serving table. Versions sort as text in the order they were made."""
    versions = sorted(set(published_versions))
    if not versions:
        return Lag(None, newest_serving, 0, None)
    newest = versions[-1]
    behind = [v for v in versions if not newest_serving or v > newest_serving]
    seconds = None
    if behind:
        import datetime as dt

        a, b = version_time(newest), version_time(newest_serving) if newest_serving else None
        if a and b:
            parse = lambda t: dt.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
            seconds = (parse(a) - parse(b)).total_seconds()
    return Lag(newest, newest_serving, len(behind), seconds)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} days"
