"""The bad-input corpus: each case one symbol's answer(s), and what must come of it.

    expect       what the rules say must happen
    rejected     a non-data answer, kept in rejected/ with its reason (kinds: in order);
                 data_after: a retry then brought the data and it was published
    quarantined  the bad row(s) held back in stocks.daily_prices_quarantine (rules: each
                 appears in a held row's `rule`), every other row published
    dropped      an exact copy dropped as a duplicate, the rest published
    warning      a whole-series warning (rules) names the symbol; every row published
    published    nothing wrong by the rules: every row published
    blocked      a batch rule (rules) blocks the run; prod untouched (own lake per case)

`words` must appear in what a person reads for the case (the quarantine reason, the warning,
the blocked message, or the rejection's reason and the ingest problems); "{symbol}" and
"{date}" are filled in. Cases with lake="shared" share one lake and one run; the others
(runs that stop the ingest, or block the whole batch) get their own.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.corpus.harness import Answer, csv_bytes, json_bytes, scaled, series

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "alphavantage"


def fixture(name: str, status: int = 200, content_type: str = "application/json") -> Answer:
    return Answer((FIXTURES / name).read_bytes(), status, content_type)


@dataclass(frozen=True)
class Case:
    name: str
    symbol: str
    expect: str
    rules: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    words: tuple[str, ...] = ("{symbol}",)
    date: str | None = None
    data_after: bool = True
    dropped: int = 0
    server_failures: tuple[str, ...] = ()  # the fake HTTP server's scripted answers (its FAILURES)
    invalid: bool = False  # the fake HTTP server says the symbol does not exist
    answers: Callable[[], list[Answer]] | None = None  # scripted answers before the data body
    body: Callable[[str], bytes] | None = None  # the data body (default: the symbol's series as CSV)
    lake: str = "shared"
    note: str = ""
    known_gap: str = ""  # the pipeline does not do this yet (the test is a strict xfail until it does)

    @property
    def via_server(self) -> bool:
        return bool(self.server_failures) or self.invalid

    def text(self, word: str) -> str:
        return word.replace("{symbol}", self.symbol).replace("{date}", self.date or "")


def edited(edit: Callable[[list], None]) -> Callable[[str], bytes]:
    def body(symbol: str) -> bytes:
        rows = series(symbol)
        edit(rows)
        return csv_bytes(rows)
    return body


def day(symbol: str, index: int) -> str:
    """The date of the symbol's bar `index` (0 = newest)."""
    return series(symbol)[index][0]


def _set(index: int, column: int, value: str):
    return edited(lambda rows: rows[index].__setitem__(column, value))


def _identical_closes(rows: list) -> None:
    close = rows[30][4]
    for row in rows[30:38]:
        row[4] = close
        row[2] = max(row[2], close, key=float)
        row[3] = min(row[3], close, key=float)


CASES: list[Case] = [
    # -- answers that are not data: rejected with a reason, retried where that can help --------
    Case("per-minute limit (Note)", "NOTEMIN", "rejected", kinds=("rate_limit",), server_failures=("rate_limit",)),
    Case("burst limit (Information)", "BURST", "rejected", kinds=("rate_limit",), server_failures=("burst",)),
    Case("HTTP 502 HTML page", "HTML502", "rejected", kinds=("server_error",), server_failures=("html502",)),
    Case("HTML page with HTTP 200", "HTML200", "rejected", kinds=("html",), server_failures=("html200",)),
    Case("truncated CSV", "CUTCSV", "rejected", kinds=("truncated",), server_failures=("truncated",)),
    Case("empty series (header only)", "NOBARS", "rejected", kinds=("empty_series",), server_failures=("empty",),
         data_after=False),
    Case("invalid symbol (Error Message)", "NOSUCHCO", "rejected", kinds=("invalid_symbol",), invalid=True,
         data_after=False, words=("NOSUCHCO: not a symbol",)),
    Case("truncated JSON", "CUTJSON", "rejected", kinds=("truncated",), answers=lambda: [fixture("truncated.json")]),
    Case("empty body", "EMPTYBODY", "rejected", kinds=("truncated",), answers=lambda: [Answer(b"", 200, "text/csv")],
         words=("empty body",)),
    Case("plain text error page", "PLAINTEXT", "rejected", kinds=("html",),
         answers=lambda: [Answer(b"Service Unavailable - try again later\n", 200, "text/plain")],
         words=("neither JSON nor CSV",)),
    Case("JSON that is neither series nor message", "ODDJSON", "rejected", kinds=("unexpected",), data_after=False,
         answers=lambda: [Answer(b'{"status": "maintenance"}\n')]),
    Case("timeouts on every attempt", "TIMEOUT", "rejected", kinds=("server_error",), data_after=False,
         answers=lambda: [Answer(b"", 0)] * 4, words=("TIMEOUT", "ConnectTimeout", "carried")),
    Case("CSV column added", "COLADDED", "rejected", kinds=("unexpected",), data_after=False,
         answers=lambda: [Answer(csv_bytes([r[:5] + [r[4], r[5]] for r in series("COLADDED")],
                                           ["timestamp", "open", "high", "low", "close", "adjusted_close", "volume"]),
                                 200, "text/csv")],
         words=("timestamp,open,high,low,close,adjusted_close,volume",)),
    Case("CSV column renamed", "COLRENAMED", "rejected", kinds=("unexpected",), data_after=False,
         answers=lambda: [Answer(csv_bytes(series("COLRENAMED"), ["timestamp", "open", "high", "low", "adj_close",
                                                                  "volume"]), 200, "text/csv")],
         words=("adj_close",)),
    Case("CSV column missing", "COLMISSING", "rejected", kinds=("unexpected",), data_after=False,
         answers=lambda: [Answer(csv_bytes([r[:5] for r in series("COLMISSING")], ["timestamp", "open", "high", "low",
                                                                                  "close"]), 200, "text/csv")],
         words=("'timestamp,open,high,low,close' is not",)),

    # -- rows that break a row rule: quarantined with the reason, the rest published -----------
    Case('"NaN" close', "NANCLOSE", "quarantined", rules=("parse_ok",), date=day("NANCLOSE", 3),
         body=_set(3, 4, "NaN"), words=("{symbol} {date}: close 'NaN' is not a number",)),
    Case('"" open', "EMPTYOPEN", "quarantined", rules=("parse_ok",), date=day("EMPTYOPEN", 4),
         body=_set(4, 1, ""), words=("{symbol} {date}: open is missing",)),
    # Quotes are text to Athena's LazySimpleSerDe, and so to the local engine: "1,234" is two fields
    Case('"1,234" volume (CSV, quoted)', "COMMAVOL", "quarantined", rules=("parse_ok",), date=day("COMMAVOL", 5),
         body=_set(5, 5, "1,234"),
         words=("{symbol} {date}: volume '\"1' is not a whole number",
                "the row has an extra field '234\"' after volume '\"1' (an unquoted thousands separator, "
                "volume '\"1,234\"'?)")),
    Case('"1,234" volume (JSON)', "COMMAJSON", "quarantined", rules=("parse_ok",), date=day("COMMAJSON", 5),
         body=lambda s: json_bytes(s, [r if i != 5 else r[:5] + ["1,234"] for i, r in enumerate(series(s))]),
         words=("{symbol} {date}: volume '\"1' is not a whole number", "volume '\"1,234\"'?")),
    Case('unquoted "1,234" volume (a row with a 7th field)', "EXTRAFIELD", "quarantined", rules=("parse_ok",),
         date=day("EXTRAFIELD", 5),
         body=lambda s: csv_bytes(series(s)).replace(
             (",".join(series(s)[5]) + "\r\n").encode(), (",".join(series(s)[5][:5]) + ",1,234\r\n").encode()),
         words=("{symbol} {date}: the row has an extra field '234' after volume '1'",
                "unquoted thousands separator, volume '1,234'"),
         note="the raw table's 7th column (extra_field) keeps what both engines would drop"),
    Case("duplicate date, identical rows", "DUPSAME", "dropped", dropped=1, words=(),
         body=edited(lambda rows: rows.insert(6, list(rows[6]))),
         note="an exact copy is not an error: it is counted in the run log (duplicates_dropped), not quarantined"),
    Case("duplicate date, disagreeing rows", "DUPDIFF", "quarantined", rules=("one_row_per_symbol_and_date",),
         date=day("DUPDIFF", 6), body=edited(lambda rows: rows.insert(6, rows[6][:4] + [rows[6][1], rows[6][5]])),
         words=("{symbol} {date}: 2 different rows for the same symbol and date",)),
    Case("zero close", "ZEROCLOSE", "quarantined", rules=("prices_positive",), date=day("ZEROCLOSE", 7),
         body=_set(7, 4, "0.0000"), words=("{symbol} {date}: a price is not above zero", "close 0")),
    Case("negative open", "NEGOPEN", "quarantined", rules=("prices_positive",), date=day("NEGOPEN", 8),
         body=edited(lambda rows: rows[8].__setitem__(1, "-" + rows[8][1])), words=("{symbol} {date}", "open -")),
    Case("-1 sentinel prices", "SENTINEL", "quarantined", rules=("prices_positive",), date=day("SENTINEL", 9),
         body=edited(lambda rows: rows[9].__setitem__(slice(1, 5), ["-1"] * 4)),
         words=("{symbol} {date}: a price is not above zero (open -1, high -1, low -1, close -1)",)),
    Case("negative volume", "NEGVOL", "quarantined", rules=("volume_not_negative",), date=day("NEGVOL", 10),
         body=_set(10, 5, "-500"), words=("{symbol} {date}: volume -500 is negative",)),
    Case("high below low", "HIGHLOW", "quarantined", rules=("high_is_highest", "low_is_lowest"),
         date=day("HIGHLOW", 11),
         body=edited(lambda rows: rows[11].__setitem__(slice(2, 4), [rows[11][3], rows[11][2]])),
         words=("{symbol} {date}: high", "is below max(open")),
    Case("open above the high", "OPENHIGH", "quarantined", rules=("high_is_highest",), date=day("OPENHIGH", 12),
         body=edited(lambda rows: rows[12].__setitem__(1, f"{float(rows[12][2]) * 1.05:.4f}")),
         words=("{symbol} {date}: high",)),
    Case("close below the low", "CLOSELOW", "quarantined", rules=("low_is_lowest",), date=day("CLOSELOW", 13),
         body=edited(lambda rows: rows[13].__setitem__(4, f"{float(rows[13][3]) * 0.95:.4f}")),
         words=("{symbol} {date}: low", "is above min(open")),
    Case("weekend date", "WEEKEND", "quarantined", rules=("trade_date_is_session",), date="2026-11-14",
         body=edited(lambda rows: rows.insert(5, ["2026-11-14"] + rows[4][1:])),
         words=("{symbol} 2026-11-14 (Saturday) is not an NYSE session",)),
    Case("exchange holiday (Labor Day)", "HOLIDAY", "quarantined", rules=("trade_date_is_session",),
         date="2026-09-07", body=edited(lambda rows: rows.append(["2026-09-07"] + rows[-1][1:])),
         words=("{symbol} 2026-09-07 (Monday) is not an NYSE session",)),
    Case("date after the as-of date", "FUTURE", "quarantined", rules=("not_after_as_of",), date="2026-11-23",
         body=edited(lambda rows: rows.insert(0, ["2026-11-23"] + rows[0][1:])),
         words=("{symbol} 2026-11-23 is after the run's as-of date 2026-11-20",)),
    Case("date in another format", "USDATE", "quarantined", rules=("parse_ok",), date=day("USDATE", 14),
         body=edited(lambda rows: rows[14].__setitem__(0, "{1}/{2}/{0}".format(*rows[14][0].split("-")))),
         words=("{symbol}", "is not a date (YYYY-MM-DD)")),
    Case("bar still forming (Last Refreshed during the session)", "FORMING", "quarantined", rules=("bar_complete",),
         date="2026-11-20", body=lambda s: json_bytes(s, series(s), last_refreshed="2026-11-20 13:14:34"),
         words=("{symbol} 2026-11-20: bar still forming at fetch time",)),
    Case("100-fold jump for one bar, no split", "SPIKE", "quarantined", rules=("no_unexplained_jump",),
         date=day("SPIKE", 20), body=edited(lambda rows: rows.__setitem__(20, scaled(rows[20], 100))),
         words=("{symbol} {date}: close", "times off the close", "no split explains")),
    Case("prices switch to cents (a lasting 100-fold jump)", "CENTS", "quarantined", rules=("no_unexplained_jump",),
         date=day("CENTS", 9), body=edited(lambda rows: rows.__setitem__(slice(0, 10), [scaled(r, 100) for r in rows[:10]])),
         note="only the first bar at the new level is held: it names the date the scale changed"),

    # -- series that are wrong as a whole: warnings, every row published -----------------------
    Case("stale series: 8 identical closes", "FLATLINE", "warning", rules=("series_not_stale",),
         date=day("FLATLINE", 37), body=edited(_identical_closes),
         words=("{symbol} closed at", "on 8 sessions in a row, {date} to")),
    Case("stale series: newest bar a week old", "BEHIND", "warning", rules=("series_not_stale",), date="2026-11-13",
         body=edited(lambda rows: rows.__delitem__(slice(0, 5))),
         words=("{symbol}: newest bar 2026-11-13, but the fetch came after the 2026-11-20 session",)),
    Case("missing session", "GAPPY", "warning", rules=("every_session_present",), date=day("GAPPY", 40),
         body=edited(lambda rows: rows.__delitem__(40)), words=("{symbol} has no bar for 1 session(s): {date}",)),

    # -- what looks odd but is fine by the rules --------------------------------------------
    Case("2-for-1 split (prices halve)", "SPLIT", "published", words=(),
         body=edited(lambda rows: rows.__setitem__(slice(0, 10), [scaled(r, 0.5) for r in rows[:10]]))),
    Case("JSON with an extra field per bar", "EXTRAJSON", "published", words=(),
         body=lambda s: json_bytes(s, [r + [r[4]] for r in series(s)],
                                   fields=("1. open", "2. high", "3. low", "4. close", "5. volume", "6. adjusted close")),
         note="fields beyond the five are not read; the raw body.json keeps them"),

    # -- answers that stop the ingest: own lake each (the symbol is carried to the next run) ----
    Case("daily cap echoing the key (Information)", "CAPINFO", "rejected", kinds=("daily_cap",), lake="own",
         data_after=False, words=("CAPINFO", "daily", "carried")),
    Case("daily cap under Note", "CAPNOTE", "rejected", kinds=("daily_cap",), lake="own", data_after=False,
         answers=lambda: [fixture("note_daily_cap.json")], words=("CAPNOTE", "carried")),
    Case("premium-only request (outputsize=full)", "PREMIUM", "rejected", kinds=("premium",), lake="own",
         data_after=False, answers=lambda: [fixture("information_premium_full.json")], words=("PREMIUM", "premium")),
    Case("demo key", "DEMOKEY", "rejected", kinds=("bad_key",), lake="own", data_after=False,
         answers=lambda: [fixture("information_demo_key.json")], words=("DEMOKEY", "demo")),
    Case("invalid API key: nothing fetched at all", "BADKEY", "rejected", kinds=("bad_key",), lake="own",
         data_after=False, words=("BADKEY", "apikey is invalid")),

    # -- batches the rules block: own lake each, prod untouched --------------------------------
    Case("a raw body with another header (landed by an older ingester)", "DRIFTED", "blocked",
         rules=("schema_as_expected",), lake="own", words=("symbol=DRIFTED", "adjusted_close")),
    Case("JSON field renamed (every close missing)", "RENAMED", "blocked", rules=("quarantine_share_below_threshold",),
         lake="own", date=day("RENAMED", 0),
         body=lambda s: json_bytes(s, series(s), fields=("1. open", "2. high", "3. low", "4. adjusted close",
                                                         "5. volume")),
         words=("{symbol} {date}: close is missing",)),
    Case("JSON field missing (no volume)", "NOVOLUME", "blocked", rules=("quarantine_share_below_threshold",),
         lake="own", date=day("NOVOLUME", 0),
         body=lambda s: json_bytes(s, [r[:5] for r in series(s)], fields=("1. open", "2. high", "3. low", "4. close")),
         words=("{symbol} {date}: volume is missing",)),
    Case("every price a -1 sentinel", "ALLSENT", "blocked", rules=("quarantine_share_below_threshold",), lake="own",
         date=day("ALLSENT", 0), body=edited(lambda rows: [r.__setitem__(slice(1, 5), ["-1"] * 4) for r in rows]),
         words=("{symbol} {date}: a price is not above zero",)),
]

SHARED = [c for c in CASES if c.lake == "shared"]
OWN = [c for c in CASES if c.lake == "own"]
