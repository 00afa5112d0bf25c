"""Remove the API key from text, URLs and bytes before they reach a log, an error or the lake.

Two nets: the literal key values we know of, and the places a key shows up even when we
do not know its value (an `apikey=` query parameter, Alpha Vantage's "We have detected
your API key as ..." sentence).
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Union

MASK = "***"

_URL_PARAM = re.compile(r"(?i)(\bapi_?key=)[^&\s\"'#<>]+")
_ECHOED_KEY = re.compile(r"(?i)(\bapi key as\s+)([^\s,;\"'<>]+?)(?=[\s,;\"'<>]|\.(?:\s|$)|$)")
_URL_PARAM_B = re.compile(rb"(?i)(\bapi_?key=)[^&\s\"'#<>]+")
_ECHOED_KEY_B = re.compile(rb"(?i)(\bapi key as\s+)([^\s,;\"'<>]+?)(?=[\s,;\"'<>]|\.(?:\s|$)|$)")

Secret = Union[str, object]  # a str or anything with .reveal() -> str (ApiKey)


def secret_values(secrets: Iterable[Secret]) -> list[str]:
    """The plain values of secrets, longest first so a key never survives as a suffix."""
    values = []
    for secret in secrets:
        reveal = getattr(secret, "reveal", None)
        value = reveal() if callable(reveal) else secret
        if isinstance(value, str) and value:
            values.append(value)
    return sorted(set(values), key=len, reverse=True)


def redact_text(text: str, secrets: Iterable[Secret] = ()) -> str:
    """`text` with every known secret and every apikey-looking value replaced by ***."""
    for value in secret_values(secrets):
        text = text.replace(value, MASK)
    text = _URL_PARAM.sub(lambda m: m.group(1) + MASK, text)
    return _ECHOED_KEY.sub(lambda m: m.group(1) + MASK, text)


def redact_bytes(data: bytes, secrets: Iterable[Secret] = ()) -> bytes:
    """The bytes version of redact_text, for bodies we store."""
    mask = MASK.encode()
    for value in secret_values(secrets):
        data = data.replace(value.encode(), mask)
    data = _URL_PARAM_B.sub(lambda m: m.group(1) + mask, data)
    return _ECHOED_KEY_B.sub(lambda m: m.group(1) + mask, data)


def redact_url(url: str, secrets: Iterable[Secret] = ()) -> str:
    """A URL safe to log: the apikey parameter's value is masked."""
    return redact_text(url, secrets)


def contains_secret(data: str | bytes, secrets: Iterable[Secret]) -> bool:
    """True if any known secret value occurs in data."""
    for value in secret_values(secrets):
        needle = value.encode() if isinstance(data, bytes) else value
        if needle in data:
            return True
    return False


class RedactingFilter(logging.Filter):
    """Masks apikey values in records of a logger we do not own (urllib3 logs every request
    URL at DEBUG, query string included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def guard_logger(name: str) -> None:
    """Attach a RedactingFilter to logger `name` once."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
