from __future__ import annotations

import datetime as dt

import pytest

from glue_jobs.lake.errors import ConfigError
from workflows.dashboards.macros import TimeRange, expand

RANGE = TimeRange(dt.datetime(2026, 1, 2, 0, 0, 0), dt.datetime(2026, 3, 4, 23, 59, 59))


def test_date_and_time_filters_expand_like_the_athena_plugin():
    assert expand("$__dateFilter(trade_date)", RANGE, {}) == \
        "trade_date BETWEEN date '2026-01-02' AND date '2026-03-04'"
    assert expand("$__timeFilter(started_at)", RANGE, {}) == \
        "started_at BETWEEN TIMESTAMP '2026-01-02 00:00:00' AND TIMESTAMP '2026-03-04 23:59:59'"
    assert expand("year($__timeFrom()) and year($__timeTo())", RANGE, {}) == \
        "year(TIMESTAMP '2026-01-02 00:00:00') and year(TIMESTAMP '2026-03-04 23:59:59')"


def test_multi_value_variable_becomes_a_quoted_list_with_quotes_escaped():
    variables = {"symbol": ["AAPL", "O'REILLY"]}
    assert expand("symbol in (${symbol:singlequote})", RANGE, variables) == "symbol in ('AAPL','O''REILLY')"
    # Grafana quotes a multi-value variable's values by default in SQL data sources, too
    assert expand("symbol in ($symbol)", RANGE, {"symbol": ["IBM"]}) == "symbol in ('IBM')"
    assert expand("${symbol:csv}", RANGE, {"symbol": ["A", "B"]}) == "A,B"


@pytest.mark.parametrize("sql, message", [
    ("$__timeGroup(t, '5m')", r"\$__timeGroup\(t, '5m'\) is not supported"),
    ("${sector}", r"\$sector is not a dashboard variable"),
    ("${symbol:regex}", r"\$\{symbol:regex\} is not supported"),
])
def test_what_the_local_renderer_cannot_expand_is_named(sql, message):
    with pytest.raises(ConfigError, match=message):
        expand(sql, RANGE, {"symbol": ["A"]})


def test_an_empty_selection_is_refused_rather_than_producing_invalid_sql():
    with pytest.raises(ConfigError, match="no value selected"):
        expand("in (${symbol:singlequote})", RANGE, {"symbol": []})
