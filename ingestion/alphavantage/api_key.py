"""The Alpha Vantage key: from ALPHAVANTAGE_API_KEY, else from a Secrets Manager secret.

The key travels as an ApiKey, which never prints itself: a stray log line, repr in a
traceback or f-string shows *** instead. Only the HTTP client calls .reveal().
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from typing import Any

from glue_jobs.lake.errors import ConfigError
from ingestion.alphavantage import constants

# JSON secrets written by hand or by other tools use one of these names.
_SECRET_FIELDS = ("apikey", "api_key", "apiKey", constants.ENV_API_KEY, "key")


class ApiKey:
    """A key whose repr, str and format are masked; .reveal() returns the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str, *, origin: str = constants.ENV_API_KEY):
        """`origin` names the setting the value came from, for the error (never the value)."""
        value = (value or "").strip()
        if not value:
            raise ConfigError(f"the Alpha Vantage API key is empty: set {origin}")
        if len(value) < constants.MIN_KEY_LENGTH:
            # Masking a short key would rewrite ordinary words of error bodies, and a short value
            # is no key Alpha Vantage hands out (theirs are 16 letters and digits).
            raise ConfigError(
                f"the Alpha Vantage API key in {origin} is shorter than {constants.MIN_KEY_LENGTH} characters, "
                "too short to be masked safely in logs and kept bodies; Alpha Vantage keys are 16 letters "
                f"and digits: set {origin} to your key"
            )
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "ApiKey('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self):  # pickling would write the key in clear to wherever the pickle goes
        raise TypeError("ApiKey cannot be pickled")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("ApiKey", self._value))


_secret_cache: dict[str, ApiKey] = {}
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget keys read from Secrets Manager (tests; a rotated secret in a warm Lambda)."""
    with _cache_lock:
        _secret_cache.clear()


def resolve_api_key(env: Mapping[str, str] | None = None, *, secrets_client: Any = None) -> ApiKey:
    """The key from ALPHAVANTAGE_API_KEY, else from secret ALPHAVANTAGE_SECRET_ID (read once per process).

    Raises ConfigError naming both settings when neither gives a key: a missing key fails
    the run before any call is made, it is never an empty string.
    """
    env = os.environ if env is None else env
    direct = (env.get(constants.ENV_API_KEY) or "").strip()
    if direct:
        return ApiKey(direct)
    secret_id = (env.get(constants.ENV_SECRET_ID) or "").strip()
    if not secret_id:
        raise ConfigError(
            f"no Alpha Vantage API key: set {constants.ENV_API_KEY}, or {constants.ENV_SECRET_ID} to the id "
            "of a Secrets Manager secret holding it (plain text or JSON {\"apikey\": ...}); "
            "or run offline with --source synthetic"
        )
    with _cache_lock:
        if secret_id in _secret_cache:
            return _secret_cache[secret_id]
        key = ApiKey(
            _secret_value(_read_secret(secret_id, secrets_client), secret_id),
            origin=f"Secrets Manager secret {secret_id!r} ({constants.ENV_SECRET_ID})",
        )
        _secret_cache[secret_id] = key
        return key


def _read_secret(secret_id: str, client: Any) -> str:
    if client is None:
        import boto3  # only on AWS; the local path never needs it

        client = boto3.client("secretsmanager")
    try:
        response = client.get_secret_value(SecretId=secret_id)
    except Exception as exc:  # botocore errors vary; the message is enough
        raise ConfigError(
            f"could not read Secrets Manager secret {secret_id!r} ({constants.ENV_SECRET_ID}): "
            f"{type(exc).__name__}: {exc}. Check the secret exists in this region and the role "
            "may call secretsmanager:GetSecretValue on it"
        ) from None
    value = response.get("SecretString")
    if not value:
        raise ConfigError(f"Secrets Manager secret {secret_id!r} has no SecretString: store the key as text")
    return value


def _secret_value(raw: str, secret_id: str) -> str:
    text = raw.strip()
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            raise ConfigError(f"Secrets Manager secret {secret_id!r} looks like JSON but does not parse") from None
        for name in _SECRET_FIELDS:
            if isinstance(doc, dict) and str(doc.get(name) or "").strip():
                return str(doc[name]).strip()
        raise ConfigError(
            f"Secrets Manager secret {secret_id!r} is JSON without an 'apikey' field: "
            'store {"apikey": "<key>"} or the bare key'
        )
    if not text:
        raise ConfigError(f"Secrets Manager secret {secret_id!r} is empty")
    return text
