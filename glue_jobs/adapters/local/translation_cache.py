"""Translations of Athena SQL to DuckDB kept on disk between runs (the local engine's own
cache: a daily run's SQL files have the same shapes every day, and translating them costs
more than running them on a day's rows).

A translation is a pure function of the SQL text, the schema it was typed with and the code
that translated it, so the key hashes all three: a change to any rule, to sqlglot or to a
table's columns is a new key, never a stale answer. The cache lives under
$TICKERLAKE_SQL_CACHE, else $XDG_CACHE_HOME/tickerlake/athena_sql (~/.cache/...); a folder
that cannot be written only means translating again."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

ENV_DIR = "TICKERLAKE_SQL_CACHE"


def key(sql: str, schema: dict[str, dict[str, str]], database: str) -> str:
    text = json.dumps([_code_version(), database, sql, sorted((t, sorted(c.items())) for t, c in schema.items())])
    return hashlib.sha256(text.encode()).hexdigest()


def load(k: str) -> tuple[tuple[str, ...], dict[str, str]] | None:
    path = _directory() / f"{k}.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return tuple(doc["statements"]), dict(doc["columns"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent, or damaged (a crash mid-write leaves no file: see store)


def store(k: str, value: tuple[tuple[str, ...], dict[str, str]]) -> None:
    directory = _directory()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"statements": list(value[0]), "columns": value[1]}, fh)
        os.replace(tmp, directory / f"{k}.json")  # whole or absent, whatever runs beside it
    except OSError as exc:
        log.debug("translation cache not written (%s): translating again next time", exc)


def _directory() -> Path:
    explicit = os.environ.get(ENV_DIR)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tickerlake" / "athena_sql"


@lru_cache(maxsize=1)
def _code_version() -> str:
    """A hash of the translating code (athena_sql and its rules) and of sqlglot's version."""
    import sqlglot

    from glue_jobs.adapters.local import athena_sql

    digest = hashlib.sha256(sqlglot.__version__.encode())
    root = Path(athena_sql.__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
