"""The audit's rules, read from sql/wap/audit/daily_prices.yml, and everything about them that is
pure: the per-row columns the rules check, the reasons written for failing rows, the batch
rules' verdicts, and how the temp table is cut into bounded chunks.

Great Expectations runs the row rules (glue_jobs/audit/stage.py builds the suite from this book);
nothing here touches storage, an engine or GE.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import yaml

from glue_jobs.audit.thresholds import THRESHOLD_KINDS, Threshold, threshold_value
from glue_jobs.lake import trading_calendar
from glue_jobs.lake.errors import ConfigError

RULES_FILE = "wap/audit/daily_prices.yml"
__all__ = ["THRESHOLD_KINDS", "Threshold", "threshold_value"]  # re-exported: the book's thresholds


@dataclass(frozen=True)
class RowRule:
    name: str
    description: str
    expectation: str  # a GE expectation in snake case, e.g. expect_column_values_to_be_between
    kwargs: dict[str, Any]
    reason: str  # a str.format template filled from the failing row


@dataclass(frozen=True)
class BatchRule:
    name: str
    description: str
    thresholds: dict[str, Threshold] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleBook:
    model: str
    raw_header: tuple[str, ...]
    row_rules: tuple[RowRule, ...]
    batch_rules: tuple[BatchRule, ...]
    # recorded and logged, never blocking (glue_jobs/audit/series_rules.py evaluates them)
    warning_rules: tuple[BatchRule, ...] = ()


def parse_rules(text: str, origin: str = RULES_FILE) -> RuleBook:
    """The rule book in a YAML text (see sql/wap/audit/daily_prices.yml)."""
    doc = yaml.safe_load(text) or {}
    try:
        row_rules = tuple(
            RowRule(r["name"], r.get("description", ""), r["expectation"], dict(r.get("kwargs") or {}), r["reason"])
            for r in doc.get("row_rules", [])
        )
        batch_rules, warning_rules = (tuple(
            BatchRule(
                r["name"],
                r.get("description", ""),
                {k: Threshold(float(v["default"]), v.get("setting"), v.get("kind", "number"))
                 for k, v in (r.get("thresholds") or {}).items()},
            )
            for r in doc.get(section, [])
        ) for section in ("batch_rules", "warning_rules"))
        book = RuleBook(doc["model"], tuple(doc["raw_header"]), row_rules, batch_rules, warning_rules)
        for rule in (*book.batch_rules, *book.warning_rules):
            for t in rule.thresholds.values():
                if t.kind not in THRESHOLD_KINDS:
                    raise ValueError(f"{rule.name}: threshold kind {t.kind!r} is not one of {', '.join(THRESHOLD_KINDS)}")
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{origin}: a rule is incomplete or malformed ({exc!r})") from exc
    names = [r.name for r in (*book.row_rules, *book.batch_rules, *book.warning_rules)]
    if len(names) != len(set(names)):
        raise ConfigError(f"{origin}: rule names must be unique, got {names}")
    return book


def load_rules() -> RuleBook:
    from glue_jobs.lake import sql_files

    return parse_rules(sql_files.load(RULES_FILE))


def thresholds(book: RuleBook, settings: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Each batch and warning rule's thresholds: the rule book's defaults, overridden by settings."""
    out: dict[str, dict[str, float]] = {}
    for rule in (*book.batch_rules, *book.warning_rules):
        values = {}
        for param, threshold in rule.thresholds.items():
            value: Any = threshold.default
            if threshold.setting and settings.get(threshold.setting) is not None:
                value = threshold_value(threshold, settings[threshold.setting], f"audit setting {threshold.setting}")
            values[param] = value
        out[rule.name] = values
    return out


# -- per-row columns -----------------------------------------------------------------------------


def derive(df: pd.DataFrame, *, as_of: dt.date, rows_for_key: dict[tuple[str, str], int]) -> pd.DataFrame:
    """The columns the row rules check, added to a chunk of the temp table.

    Expects `trade_day` and `forming_day` as ISO date strings (null when absent) besides the
    temp table's columns; `rows_for_key` counts the rows of each duplicated (symbol, day) over
    the whole batch (every other key has one row)."""
    # Vectorised over the chunk (no per-row Python): a backfill derives 25 million rows.
    out = df.copy(deep=False)  # new columns only: the input is never written to
    prices = out[["open", "high", "low", "close"]].to_numpy(dtype="float64", na_value=np.nan)
    complete = ~np.isnan(prices).any(axis=1)
    open_, high, low, close = prices.T
    with np.errstate(invalid="ignore"):
        out["min_price"] = np.where(complete, prices.min(axis=1), np.nan)
        out["high_headroom"] = np.where(complete, high - np.maximum(open_, close), np.nan)
        out["low_headroom"] = np.where(complete, np.minimum(open_, close) - low, np.nan)

    # Few distinct days per chunk: work each out once (plain dates: any year is fine), then
    # spread the answers by the rows' codes (-1, a missing day, picks the trailing null).
    codes, uniques = pd.factorize(out["trade_day"])
    has_day = codes >= 0
    days = [str(u) for u in uniques]
    dates = [dt.date.fromisoformat(d) for d in days]
    out["rows_for_key"] = _rows_for_key(out["symbol"], days, codes, rows_for_key)
    out["is_session"] = np.array([trading_calendar.is_session(d) for d in dates] + [None], dtype=object)[codes]
    out["days_after_as_of"] = np.array([float((d - as_of).days) for d in dates] + [np.nan])[codes]
    forming_codes, forming_days = pd.factorize(out["forming_day"])
    forming_as_day = np.append(pd.Index(days, dtype=object).get_indexer([str(f) for f in forming_days]), -1)
    same = forming_as_day[forming_codes] == codes
    out["is_forming"] = np.array([False, True, None], dtype=object)[np.where(has_day, same.astype(np.int8), 2)]
    # The jump rule's columns come from the whole batch (series_rules.with_jumps); a frame
    # without them has no jump to judge.
    for column in ("jump_factor", "prev_close"):
        if column not in out:
            out[column] = float("nan")
    if "prev_day" not in out:
        out["prev_day"] = None
    return out


def _rows_for_key(symbols: pd.Series, days: list[str], codes: np.ndarray,
                  rows_for_key: dict[tuple[str, str], int]) -> np.ndarray:
    """Rows sharing each row's (symbol, day) over the batch: 1 unless the key is duplicated,
    null without a day. Only rows of a duplicated symbol are looked up."""
    counts = np.where(codes >= 0, 1.0, np.nan)
    if not rows_for_key:
        return counts
    rows = np.flatnonzero(symbols.isin(sorted({s for s, _ in rows_for_key})).to_numpy() & (codes >= 0))
    keys = symbols.to_numpy(dtype=object)[rows] + "|" + np.asarray(days, dtype=object)[codes[rows]]
    lookup = {f"{s}|{d}": n for (s, d), n in rows_for_key.items()}
    counts[rows] = pd.Series(keys, dtype=object).map(lookup).fillna(1).to_numpy(dtype="float64")
    return counts


# -- reasons -------------------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "missing"
    if value is pd.NaT:
        return "missing"
    if isinstance(value, float):
        return format(value, ".10g")
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def row_values(row: dict[str, Any], as_of: dt.date) -> dict[str, str]:
    """The placeholders a reason template may use, formatted for people."""
    values = {k: _fmt(v) for k, v in row.items()}
    day = row.get("trade_day")
    raw_line = row.get("raw_line") or ""
    if isinstance(day, str) and day:
        values["date"] = day
        values["weekday"] = dt.date.fromisoformat(day).strftime("%A")
    else:
        values["date"] = raw_line.split(",", 1)[0] or "(no date)"
        values["weekday"] = "unknown weekday"
    if isinstance(row.get("rows_for_key"), float) and not math.isnan(row["rows_for_key"]):
        values["rows_for_key"] = str(int(row["rows_for_key"]))
    values["as_of"] = as_of.isoformat()
    return values


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def reason_for(rule: RowRule, values: dict[str, str]) -> str:
    return rule.reason.format_map(_Missing(values))


def quarantine_labels(
    failing: dict[str, list[int]], rows: dict[int, dict[str, Any]], book: RuleBook, as_of: dt.date
) -> dict[int, tuple[str, str]]:
    """Per failing row position: (rules, reasons), every rule it failed in the book's order,
    so a row failing several rules is quarantined once with all its reasons."""
    by_row: dict[int, list[RowRule]] = {}
    for rule in book.row_rules:
        for position in failing.get(rule.name, []):
            by_row.setdefault(position, []).append(rule)
    out = {}
    for position, rules in sorted(by_row.items()):
        values = row_values(rows[position], as_of)
        out[position] = (",".join(r.name for r in rules), "; ".join(reason_for(r, values) for r in rules))
    return out


# -- batch rules ---------------------------------------------------------------------------------


def outcome(rule: str, kind: str, success: bool, failing_rows: int, threshold: str, observed: Any,
            example: str | None) -> dict[str, Any]:
    """One rule's result, as it goes to the run log and stocks.audit_results."""
    return {"rule": rule, "kind": kind, "success": bool(success), "failing_rows": int(failing_rows),
            "threshold": threshold, "observed": observed, "example": example}


def evaluate_batch(
    book: RuleBook,
    limits: dict[str, dict[str, float]],
    *,
    drifted: list[dict[str, str]],
    rows_read: int,
    expected_rows: int,
    audited_rows: int,
    quarantined_rows: int,
    unchanged_rows: int = 0,
) -> list[dict[str, Any]]:
    """The batch rules' verdicts for one run (a failing one blocks the publish). The
    quarantine share is of the rows received: the unchanged ones (identical to what is
    published, so audited when they were) count as good, as they did when every row was
    audited again; otherwise one bad row in a re-fetch of published bars would be 100 %."""
    out = []
    names = {r.name for r in book.batch_rules}
    if "schema_as_expected" in names:
        allowed = int(limits["schema_as_expected"]["max_drifted_bodies"])
        example = None
        if drifted:
            example = (f"{drifted[0]['partition']} has header {drifted[0]['header']!r}, "
                       f"expected {','.join(book.raw_header)!r}")
        out.append(outcome("schema_as_expected", "batch", len(drifted) <= allowed, len(drifted),
                           f"at most {allowed} raw bodies with another header", len(drifted), example))
    if "row_count_within_bounds" in names:
        lim = limits["row_count_within_bounds"]
        # an ingest run that fetched nothing (every answer rejected, each kept with its reason)
        # lists no rows: reading none is right, and blocking would block every later run too
        floor = max(lim["min_rows"], math.ceil(lim["min_share_of_expected"] * expected_rows)) if expected_rows else 0
        ok = rows_read >= floor
        example = None if ok else (
            f"the raw table read {rows_read} rows; the manifests list {expected_rows}, "
            f"so at least {int(floor)} were expected"
        )
        out.append(outcome("row_count_within_bounds", "batch", ok, 0 if ok else int(floor) - rows_read,
                           f">= {int(floor)} rows (min {int(lim['min_rows'])}, "
                           f"{lim['min_share_of_expected']:.0%} of {expected_rows} expected)",
                           rows_read, example))
    if "quarantine_share_below_threshold" in names:
        max_share = limits["quarantine_share_below_threshold"]["max_share"]
        received = audited_rows + unchanged_rows
        share = quarantined_rows / received if received else 0.0
        ok = share <= max_share
        example = None if ok else (
            f"{quarantined_rows} of {received} rows ({share:.1%}) were quarantined, more than {max_share:.1%}"
        )
        out.append(outcome("quarantine_share_below_threshold", "batch", ok, quarantined_rows,
                           f"<= {max_share:.1%} of audited and unchanged rows", round(share, 6), example))
    return out


def blocked_message(run_id: str, failed: list[dict[str, Any]]) -> str:
    lines = [f"the audit blocked the publish of run {run_id}: nothing was written to stocks.daily_prices."]
    for o in failed:
        lines.append(f"  - {o['rule']}: {o['example'] or 'failed'} (threshold: {o['threshold']})")
    lines.append(
        "  Inspect stocks.tmp_daily_prices and stocks.tmp_daily_prices_quarantine (kept until the next run), "
        "fix the source or the threshold setting named in sql/wap/audit/daily_prices.yml, then run `tickerlake wap` again."
    )
    return "\n".join(lines)


# -- chunks --------------------------------------------------------------------------------------


def plan_chunks(row_groups: list[tuple[int, int, int]], max_rows: int) -> list[list[tuple[int, int]]]:
    """Group (file, row group, rows) into chunks of at most max_rows rows (a row group bigger
    than that is a chunk of its own), keeping the files' order."""
    if max_rows <= 0:
        raise ValueError("max_rows must be positive")
    chunks: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    size = 0
    for file_no, group_no, rows in row_groups:
        if current and size + rows > max_rows:
            chunks.append(current)
            current, size = [], 0
        current.append((file_no, group_no))
        size += rows
    if current:
        chunks.append(current)
    return chunks
