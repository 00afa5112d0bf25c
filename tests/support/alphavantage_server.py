"""A fake Alpha Vantage on 127.0.0.1 (ephemeral port, one thread) serving synthetic series.

    with FakeAlphaVantage(per_minute=5, daily_limit=25, clock=clock.now) as server:
        source = build_source("alphavantage", base_url=server.base_url, api_key=server.api_key)

It answers like the real API: HTTP 200 with a Note / Information / Error Message body for
limits and errors, CSV or pretty-printed JSON for data. Limits are enforced on the clock
it is given, so tests move time by hand and never sleep. Every request is recorded
(when, which symbol, what was served) for assertions and the benchmark's counts.

It can also misbehave on the wire (scripted per symbol, see WIRE_FAILURES): drip the data
body a byte at a time, send a huge body or a gzip bomb, drop the connection mid-body, hang
up without an answer, or answer only after a delay. Every such loop is bounded (bytes,
time, and the server stopping) and one handler thread serves each connection, so a dripping
answer never blocks the next request.
"""
from __future__ import annotations

import datetime as dt
import gzip
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlparse

from ingestion.synthetic.source import EPOCH, SyntheticSource

DEFAULT_KEY = "FAKEKEY-7f3a9c2e51"

PER_MINUTE_BODY = {
    "Note": "Thank you for using Alpha Vantage! Our standard API call frequency is {n} calls per minute. "
    "Please visit https://www.alphavantage.co/premium/ if you would like to target a higher API call frequency."
}
BURST_BODY = {
    "Information": "Thank you for using Alpha Vantage! Please consider spreading out your free API requests "
    "more sparingly (1 request per second). You may subscribe to any of the premium plans at "
    "https://www.alphavantage.co/premium/ to lift the free key rate limit (25 requests per day) and "
    "instantly remove all daily rate limits."
}
DAILY_CAP_BODY = {
    "Information": "We have detected your API key as {key} and our standard API rate limit is {n} requests per "
    "day. Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly "
    "remove all daily rate limits."
}
PREMIUM_BODY = {
    "Information": "Thank you for using Alpha Vantage! The outputsize=full parameter value is a premium feature "
    "for the TIME_SERIES_DAILY endpoint. You may subscribe to any of the premium plans at "
    "https://www.alphavantage.co/premium/ to instantly unlock all premium features"
}
INVALID_CALL_BODY = {
    "Error Message": "Invalid API call. Please retry or visit the documentation "
    "(https://www.alphavantage.co/documentation/) for TIME_SERIES_DAILY."
}
BAD_KEY_BODY = {
    "Error Message": "the parameter apikey is invalid or missing. Please claim your free API key on "
    "(https://www.alphavantage.co/support/#api-key). It should take less than 20 seconds."
}
HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
# Scripted answers a symbol can be given before its data (consumed in order).
WIRE_FAILURES = (
    "drip",  # headers, then the data body a byte every drip_interval_s
    "huge",  # a valid-looking CSV body of huge_bytes
    "gzip_bomb",  # Content-Encoding gzip: a small wire body that inflates to huge_bytes
    "reset",  # headers and half the body, then the connection is dropped
    "hangup",  # the request is read and the connection closed without an answer
    "slow_headers",  # the answer starts only after slow_headers_s
)
FAILURES = ("html502", "html200", "truncated", "rate_limit", "burst", "empty", *WIRE_FAILURES,
            "stale_quote", "negative_price")  # the last two: GLOBAL_QUOTE only
_WIRE_STEP = 64 * 1024


@dataclass(frozen=True)
class Call:
    at: float  # on the server's clock
    symbol: str
    outputsize: str
    datatype: str
    key_ok: bool
    kind: str  # data | rate_limit | burst | daily_cap | premium | invalid_symbol | bad_key | html502 | ...
    status: int
    body: bytes  # exactly what was sent (for drip, reset: what was meant to be sent; huge: its first KB)

    @property
    def is_limit(self) -> bool:
        return self.kind in ("rate_limit", "burst", "daily_cap")


def _pretty(obj: object) -> bytes:
    return (json.dumps(obj, indent=4) + "\n").encode()


@dataclass
class FakeAlphaVantage:
    api_key: str = DEFAULT_KEY
    as_of: dt.date = dt.date(2026, 11, 20)
    per_minute: int | None = None  # more than this many calls in window_s -> Note body
    window_s: float = 60.0
    min_spacing_s: float | None = None  # calls closer than this -> burst Information body
    daily_limit: int | None = None  # calls past this on one UTC day -> daily-cap body (echoes the key)
    invalid_symbols: Iterable[str] = ()
    premium_full: bool = True  # outputsize=full refused, like a free key
    failures: dict[str, list[str]] = field(default_factory=dict)  # symbol -> scripted answers, see FAILURES
    last_refreshed_time: str | None = None  # "13:14:34": JSON Last Refreshed carries a time of day
    seed: int = 0
    faults: str | None = None
    clock: Callable[[], float] = time.time
    drip_interval_s: float = 0.05  # "drip": seconds between bytes
    huge_bytes: int = 8 * 1024 * 1024  # "huge", "gzip_bomb": the body's (inflated) size
    slow_headers_s: float = 1.0  # "slow_headers": delay before the status line
    wire_max_s: float = 10.0  # no misbehaving answer lasts longer than this

    def __post_init__(self) -> None:
        self.invalid_symbols = {s.upper() for s in self.invalid_symbols}
        self.failures = {s.upper(): list(kinds) for s, kinds in self.failures.items()}
        for kinds in self.failures.values():
            unknown = set(kinds) - set(FAILURES)
            if unknown:
                raise ValueError(f"unknown scripted failure(s) {sorted(unknown)}; use {FAILURES}")
        self.calls: list[Call] = []
        self._per_day: dict[dt.date, int] = {}
        self._recent: deque[float] = deque()
        self._last_at: float | None = None
        self._lock = threading.Lock()
        self._synthetic = SyntheticSource(seed=self.seed, faults=self.faults)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        # (kind, "client" | "server"): who ended each misbehaving answer, in order; "client"
        # means the client hung up while the server was still sending (a deadline or cap held)
        self.wire_ends: list[tuple[str, str]] = []
        self._wire_done = threading.Condition()

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeAlphaVantage:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                status, content_type, body, kind = fake._answer(self.path)
                if kind in WIRE_FAILURES:
                    ended_by = "server"  # sent it all, or gave up at wire_max_s or stop()
                    try:
                        fake._misbehave(self, kind, content_type, body)
                    except OSError:  # the client gave up (deadline, cap): what the test wants
                        self.close_connection = True
                        ended_by = "client"
                    with fake._wire_done:
                        fake.wire_ends.append((kind, ended_by))
                        fake._wire_done.notify_all()
                    return
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:  # keep test output (and the key) quiet
                return

        self._stopping.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-alphavantage", daemon=True
        )
        self._thread.start()
        return self

    def wire_ended(self, kind: str, wait_s: float = 30.0) -> str:
        """Who ended the first misbehaving answer of this kind ("client" or "server"), waiting
        for its handler to finish (a bound, not a measurement: wire_max_s ends every answer)."""
        with self._wire_done:
            self._wire_done.wait_for(lambda: any(k == kind for k, _ in self.wire_ends), timeout=wait_s)
            return next((who for k, who in self.wire_ends if k == kind), "not ended")

    def stop(self) -> None:
        self._stopping.set()  # ends any dripping answer
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> FakeAlphaVantage:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/query"

    # -- what tests read -------------------------------------------------------------------
    @property
    def limit_bodies(self) -> int:
        """How many limit answers (per-minute, burst, daily cap) were sent."""
        return sum(c.is_limit for c in self.calls)

    def calls_for(self, symbol: str) -> list[Call]:
        return [c for c in self.calls if c.symbol == symbol.upper()]

    def data_body(self, symbol: str, *, datatype: str = "csv", full: bool = False) -> bytes:
        """The data body this fake serves for a symbol (what a test expects to find in the lake)."""
        return self._data(symbol.upper(), datatype, full)

    # -- answering -------------------------------------------------------------------------
    def _answer(self, path: str) -> tuple[int, str, bytes]:
        query = {k: v[-1] for k, v in parse_qs(urlparse(path).query).items()}
        symbol = query.get("symbol", "").upper()
        outputsize = query.get("outputsize", "compact")
        datatype = query.get("datatype", "json")
        key_ok = bool(self.api_key) and query.get("apikey") == self.api_key
        with self._lock:
            now = self.clock()
            kind, status, content_type, body = self._decide(now, query, symbol, outputsize, datatype, key_ok)
            recorded = body[:1024] if kind in ("huge", "gzip_bomb") else body
            self.calls.append(Call(now, symbol, outputsize, datatype, key_ok, kind, status, recorded))
        return status, content_type, body, kind

    # -- misbehaving on the wire (bounded: bytes, wire_max_s, stop()) -----------------------
    def _misbehave(self, handler: BaseHTTPRequestHandler, kind: str, content_type: str, body: bytes) -> None:
        until = time.monotonic() + self.wire_max_s
        out = handler.wfile
        if kind == "hangup":
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        if kind == "slow_headers":
            self._stopping.wait(min(self.slow_headers_s, self.wire_max_s))
        if kind in ("huge", "gzip_bomb"):
            body = b""  # streamed below, never built whole
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        if kind == "gzip_bomb":
            wire = gzip_of_zeros(self.huge_bytes)
            handler.send_header("Content-Encoding", "gzip")
            handler.send_header("Content-Length", str(len(wire)))
            handler.end_headers()
            out.write(wire)
            return
        handler.send_header("Content-Length", str(self.huge_bytes if kind == "huge" else len(body)))
        handler.end_headers()
        if kind == "drip":
            for i in range(len(body)):
                if self._stopping.is_set() or time.monotonic() > until:
                    break
                out.write(body[i : i + 1])
                out.flush()
                self._stopping.wait(self.drip_interval_s)
        elif kind == "huge":
            row = b"2026-11-20,100.0000,101.0000,99.0000,100.5000,1000000\r\n"
            piece = b"timestamp,open,high,low,close,volume\r\n" + row * (_WIRE_STEP // len(row))
            sent = 0
            while sent < self.huge_bytes and not self._stopping.is_set() and time.monotonic() < until:
                chunk = piece[: self.huge_bytes - sent]
                out.write(chunk)
                sent += len(chunk)
                piece = row * (_WIRE_STEP // len(row))
        elif kind == "reset":
            out.write(body[: len(body) // 2])
            out.flush()
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
        else:  # slow_headers: then the data, whole
            out.write(body)

    def _decide(self, now, query, symbol, outputsize, datatype, key_ok):
        json_type = "application/json"
        if not key_ok:
            return "bad_key", 200, json_type, _pretty(BAD_KEY_BODY)
        # Every authenticated request counts against the key, limit answers included.
        today = dt.datetime.fromtimestamp(now, tz=dt.timezone.utc).date()
        used_today = self._per_day.get(today, 0)
        self._per_day[today] = used_today + 1
        while self._recent and self._recent[0] <= now - self.window_s:
            self._recent.popleft()
        in_window = len(self._recent)
        self._recent.append(now)
        previous, self._last_at = self._last_at, now
        if self.daily_limit is not None and used_today >= self.daily_limit:
            body = {"Information": DAILY_CAP_BODY["Information"].format(key=self.api_key, n=self.daily_limit)}
            return "daily_cap", 200, json_type, _pretty(body)
        if self.per_minute is not None and in_window >= self.per_minute:
            body = {"Note": PER_MINUTE_BODY["Note"].format(n=self.per_minute)}
            return "rate_limit", 200, json_type, _pretty(body)
        if self.min_spacing_s is not None and previous is not None and now - previous < self.min_spacing_s:
            return "burst", 200, json_type, _pretty(BURST_BODY)
        if query.get("function") == "GLOBAL_QUOTE":
            return self._quote_answer(symbol)
        if query.get("function") != "TIME_SERIES_DAILY" or not symbol or symbol in self.invalid_symbols:
            return "invalid_symbol", 200, json_type, _pretty(INVALID_CALL_BODY)
        if outputsize == "full" and self.premium_full:
            return "premium", 200, json_type, _pretty(PREMIUM_BODY)
        scripted = self.failures.get(symbol)
        if scripted:
            return self._scripted(scripted.pop(0), symbol, datatype, outputsize == "full")
        content_type = "text/csv" if datatype == "csv" else json_type
        return "data", 200, content_type, self._data(symbol, datatype, outputsize == "full")

    def _quote_answer(self, symbol: str):
        """GLOBAL_QUOTE: an unknown symbol gets an empty quote (as Alpha Vantage answers), the
        scripted failures their bodies, anything else a quote of the as-of session drawn from the
        synthetic series (its last bar as the day so far, the one before as the previous close)."""
        json_type = "application/json"
        if not symbol or symbol in self.invalid_symbols:
            return "invalid_symbol", 200, json_type, _pretty({"Global Quote": {}})
        scripted = self.failures.get(symbol)
        kind = scripted.pop(0) if scripted else "data"
        if kind not in ("data", "stale_quote", "negative_price"):
            return self._scripted(kind, symbol, "json", False)
        return kind, 200, json_type, _pretty({"Global Quote": self.quote_fields(symbol, kind)})

    def quote_fields(self, symbol: str, kind: str = "data") -> dict:
        """The "Global Quote" object this fake serves for a symbol."""
        today, before, *_ = self._synthetic.bars(symbol.upper(), as_of=self.as_of)  # newest first
        day = before.trade_date if kind == "stale_quote" else today.trade_date
        price = -1.0 if kind == "negative_price" else float(today.close)
        previous = float(before.close)
        return {
            "01. symbol": symbol.upper(), "02. open": f"{float(today.open):.4f}",
            "03. high": f"{float(today.high):.4f}", "04. low": f"{float(today.low):.4f}",
            "05. price": f"{price:.4f}", "06. volume": str(today.volume), "07. latest trading day": str(day),
            "08. previous close": f"{previous:.4f}", "09. change": f"{price - previous:.4f}",
            "10. change percent": f"{(price - previous) / previous * 100:.4f}%",
        }

    def _scripted(self, kind: str, symbol: str, datatype: str, full: bool):
        json_type = "application/json"
        if kind in WIRE_FAILURES:  # the data body, sent badly (see _misbehave)
            return kind, 200, "text/csv" if datatype == "csv" else json_type, self._data(symbol, datatype, full)
        if kind in ("html502", "html200"):
            return kind, 502 if kind == "html502" else 200, "text/html", HTML_502
        if kind == "truncated":
            body = self._data(symbol, datatype, full)
            return kind, 200, "text/csv" if datatype == "csv" else json_type, body[: len(body) * 2 // 3]
        if kind == "rate_limit":
            return kind, 200, json_type, _pretty({"Note": PER_MINUTE_BODY["Note"].format(n=self.per_minute or 5)})
        if kind == "burst":
            return kind, 200, json_type, _pretty(BURST_BODY)
        if datatype == "csv":  # empty
            return kind, 200, "text/csv", b"timestamp,open,high,low,close,volume\r\n"
        return kind, 200, json_type, _pretty({"Meta Data": self._meta(symbol, full), "Time Series (Daily)": {}})

    def _meta(self, symbol: str, full: bool) -> dict:
        refreshed = self.as_of.isoformat() + (f" {self.last_refreshed_time}" if self.last_refreshed_time else "")
        return {
            "1. Information": "Daily Prices (open, high, low, close) and Volumes",
            "2. Symbol": symbol,
            "3. Last Refreshed": refreshed,
            "4. Output Size": "Full size" if full else "Compact",
            "5. Time Zone": "US/Eastern",
        }

    def _data(self, symbol: str, datatype: str, full: bool) -> bytes:
        start = EPOCH if full else None
        if datatype == "csv":
            return self._synthetic.csv_bytes(symbol, as_of=self.as_of, start=start)
        series = {
            bar.trade_date: {
                "1. open": bar.open,
                "2. high": bar.high,
                "3. low": bar.low,
                "4. close": bar.close,
                "5. volume": bar.volume,
            }
            for bar in self._synthetic.bars(symbol, as_of=self.as_of, start=start)
        }
        return _pretty({"Meta Data": self._meta(symbol, full), "Time Series (Daily)": series})


_BOMBS: dict[int, bytes] = {}


def gzip_of_zeros(size: int) -> bytes:
    """gzip of `size` zero bytes (about size/1000 on the wire), built once per size."""
    if size not in _BOMBS:
        _BOMBS[size] = gzip.compress(b"\0" * size, compresslevel=9)
    return _BOMBS[size]
