"""What a TIME_SERIES_DAILY response is: data, or which kind of problem.

Alpha Vantage answers HTTP 200 for almost everything, so the body decides. We classify
on the absence of the data key and on the kind of message (Note / Information /
Error Message plus a few keywords), never on exact sentences: the wording changes.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable

from ingestion.alphavantage import constants
from ingestion.alphavantage.redact import redact_text
from ingestion.source_api import (  # the kinds every source's bodies are sorted into
    BAD_KEY,
    DAILY_CAP,
    DATA,
    EMPTY_SERIES,
    HTML,
    INVALID_SYMBOL,
    PREMIUM,
    RATE_LIMIT,
    SERVER_ERROR,
    TRUNCATED,
    UNEXPECTED,
    Classification,
)

_RETRYABLE = frozenset({RATE_LIMIT, HTML, TRUNCATED, SERVER_ERROR})

# Checked in this order; the first match wins. The daily-cap sentence names the key and the
# day; the burst sentence also quotes the daily figure, so the unambiguous phrases go first.
_DAILY_STRONG = re.compile(r"detected your api key|limit is \d+ (requests|calls) per day|daily (api )?limit", re.I)
_THROTTLE = re.compile(r"spreading out|sparingly|per second|per minute|call frequency|too many requests", re.I)
_PREMIUM = re.compile(r"premium (feature|endpoint|function|parameter|only)|is a premium|premium-only", re.I)
_DAILY_WEAK = re.compile(r"per day|daily", re.I)
_BAD_KEY = re.compile(r"api ?key|demo", re.I)
_PER_MINUTE = re.compile(r"per minute|call frequency", re.I)


def _make(kind: str, message: str, detail: str = "", secrets: Iterable[object] = ()) -> Classification:
    return Classification(kind, kind in _RETRYABLE, redact_text(message, secrets)[:500], detail)


def classify(
    body: bytes,
    status: int = 200,
    content_type: str = "",
    requested_datatype: str | None = constants.DATATYPE_CSV,
    *,
    secrets: Iterable[object] = (),
) -> Classification:
    """Classify one response. `secrets` are masked out of the message (limit bodies echo the key)."""
    secrets = tuple(secrets)
    if status >= 500:
        return _make(SERVER_ERROR, f"HTTP {status} from the server", f"http {status}", secrets)
    if status == 429:
        return _make(RATE_LIMIT, "HTTP 429 Too Many Requests", "http 429", secrets)
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        return _make(TRUNCATED, f"empty body (HTTP {status})", "empty body", secrets)
    head = stripped[:1]
    if head == b"<" or b"<html" in stripped[:512].lower():
        return _make(HTML, f"HTML page instead of data (HTTP {status}): {_html_title(stripped)}", "html", secrets)
    if head in (b"{", b"["):
        return _classify_json(stripped, secrets, requested_datatype)
    if _looks_like_csv(stripped):
        return _classify_csv(stripped, secrets, requested_datatype)
    snippet = stripped[:80].decode("utf-8", "replace")
    return _make(HTML, f"neither JSON nor CSV ({content_type or 'no content type'}): {snippet!r}", "other", secrets)


def _html_title(body: bytes) -> str:
    match = re.search(rb"<title>(.*?)</title>", body[:4096], re.I | re.S)
    return match.group(1).decode("utf-8", "replace").strip() if match else "no title"


def _classify_json(body: bytes, secrets: tuple, requested: str | None) -> Classification:
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return _make(TRUNCATED, f"JSON body does not parse ({exc}); {len(body)} bytes", "json", secrets)
    if not isinstance(doc, dict):
        return _make(UNEXPECTED, f"JSON body is a {type(doc).__name__}, not an object", "json", secrets)
    series = doc.get(constants.SERIES_KEY)
    if isinstance(series, dict):
        if not series:
            return _make(EMPTY_SERIES, f"{constants.SERIES_KEY!r} holds no bar", "json", secrets)
        return _make(DATA, f"{len(series)} bars", _data_detail(constants.DATATYPE_JSON, requested), secrets)
    for key in constants.MESSAGE_KEYS:
        if key in doc:
            return _classify_message(key, str(doc[key]), secrets)
    keys = ", ".join(sorted(map(str, doc))) or "none"
    return _make(UNEXPECTED, f"JSON body without {constants.SERIES_KEY!r} or a message (keys: {keys})", "json", secrets)


def _classify_message(key: str, text: str, secrets: tuple) -> Classification:
    message = f"{key}: {text}"
    if key == "Error Message":
        if _BAD_KEY.search(text):
            return _make(BAD_KEY, message, key, secrets)
        return _make(INVALID_SYMBOL, message, key, secrets)
    if _DAILY_STRONG.search(text):
        return _make(DAILY_CAP, message, key, secrets)
    if _THROTTLE.search(text):
        throttle = "per_minute" if _PER_MINUTE.search(text) else "burst"
        return _make(RATE_LIMIT, message, f"{key} {throttle}", secrets)
    if _PREMIUM.search(text):
        return _make(PREMIUM, message, key, secrets)
    if _DAILY_WEAK.search(text):
        return _make(DAILY_CAP, message, key, secrets)
    if _BAD_KEY.search(text):
        return _make(BAD_KEY, message, key, secrets)
    if key == "Note":  # historically the throttle's key
        return _make(RATE_LIMIT, message, f"{key} per_minute", secrets)
    return _make(UNEXPECTED, message, key, secrets)


def _looks_like_csv(body: bytes) -> bool:
    first = body.split(b"\n", 1)[0]
    return first.count(b",") >= 1 and b"{" not in first


def _classify_csv(body: bytes, secrets: tuple, requested: str | None) -> Classification:
    lines = body.splitlines()
    header = tuple(cell.strip().decode("utf-8", "replace") for cell in lines[0].split(b","))
    if header != constants.CSV_COLUMNS:
        return _make(
            UNEXPECTED,
            f"CSV header {','.join(header)!r} is not {','.join(constants.CSV_COLUMNS)!r}",
            "csv header",
            secrets,
        )
    rows = [line for line in lines[1:] if line.strip()]
    if not rows:
        return _make(EMPTY_SERIES, "CSV with a header and no row", "csv", secrets)
    # A body cut in transit stops mid-row: no final newline and a short last row. A cut that
    # falls exactly on a row end cannot be told from a short series.
    last = rows[-1]
    if not body.endswith(b"\n") and len(last.split(b",")) < len(constants.CSV_COLUMNS):
        return _make(TRUNCATED, f"CSV cut mid-row after {len(rows) - 1} complete rows", "csv", secrets)
    return _make(DATA, f"{len(rows)} rows", _data_detail(constants.DATATYPE_CSV, requested), secrets)


def _data_detail(received: str, requested: str | None) -> str:
    # Landing stores what came, whatever was asked; the detail keeps the mismatch visible.
    if requested and requested != received:
        return f"{received} ({requested} was asked for)"
    return received
