"""Conformance: aggregate and window functions, GROUP BY / HAVING resolution.

Expected answers come from Trino's documentation (docs/src/main/sphinx/functions/aggregate.md,
window.md, sql/select.md) and source (core/trino-main/.../operator/aggregation/: MinByAggregation,
DecimalAverageAggregation, DoubleCorrelationAggregation, MapAggregationFunction) and plain Python
over the harness's rows (athena_harness.PRICES); never from DuckDB or sqlglot."""
from __future__ import annotations

import math

import pyarrow as pa
import pytest
from athena_harness import PRICES, D, arrow_type, case_ids

VOLUMES = [r[3] for r in PRICES if r[3] is not None]
AAPL = [r for r in PRICES if r[0] == "AAPL"]

# Integers and decimals inline: VALUES of casts, so that the cases do not rest on how literals are typed
INTS = "(values cast(1 as integer), cast(2 as integer), cast(3 as integer), cast(4 as integer)) t(x)"
DECS = "(values cast(1.50 as decimal(10,2)), cast(2.25 as decimal(10,2))) t(d)"

# (sql, expected rows, expected Athena types, Trino documentation section)
CASES = [
    # --- min_by / max_by: the value of the row with the least / greatest key, NULL or not
    ("select min_by(close, trade_date), max_by(close, trade_date) from stocks.prices where symbol = 'AAPL'",
     [(185.64, None)], ["double", "double"],
     "functions/aggregate#max_by: the latest AAPL row's close is NULL, and that NULL is the answer "
     "(MaxByAggregation keeps the value of the max key row, null included)"),
    ("select min_by(note, volume) from stocks.prices", [(None,)], ["varchar"],
     "functions/aggregate#min_by: the least volume (MSFT 2024-01-03) has a NULL note; a NULL key (IBM) is skipped"),
    ("select max_by(note, trade_date) from stocks.prices where symbol = 'AAPL'", [("c",)], ["varchar"],
     "functions/aggregate#max_by"),
    ("select symbol, min_by(trade_date, close) from stocks.prices group by symbol order by symbol",
     [("AAPL", PRICES[1][1]), ("IBM", PRICES[5][1]), ("MSFT", PRICES[4][1])], ["varchar", "date"],
     "functions/aggregate#min_by: per group, a date keeps its type"),
    # --- the n forms: an array of the n values, in order of the key, NULL values kept, NULL keys skipped
    # (MinByNAggregationFunction / MaxByNAggregationFunction over a TypedKeyValueHeap keyed by y)
    ("select min_by(close, trade_date, 2) from stocks.prices where symbol = 'AAPL'",
     [([r[2] for r in sorted(AAPL, key=lambda r: r[1])][:2],)], ["array(double)"],
     "functions/aggregate#min_by: min_by(x, y, n) in ascending order of y"),
    ("select max_by(close, trade_date, 2) from stocks.prices where symbol = 'AAPL'",
     [([r[2] for r in sorted(AAPL, key=lambda r: r[1], reverse=True)][:2],)], ["array(double)"],
     "functions/aggregate#max_by: max_by(x, y, n) in descending order of y; the newest close is NULL and kept"),
    ("select max_by(note, volume, 10) from stocks.prices",
     [([r[4] for r in sorted((r for r in PRICES if r[3] is not None), key=lambda r: r[3], reverse=True)],)],
     ["array(varchar)"], "functions/aggregate#max_by: fewer rows than n gives them all; a NULL key is skipped"),
    ("select max_by(trade_date, trade_date, 2) from stocks.prices where symbol = 'AAPL'",
     [(sorted((r[1] for r in AAPL), reverse=True)[:2],)], ["array(date)"],
     "functions/aggregate#max_by: the value is its own key, newest first"),
    ("select min_by(close, close, 10) from stocks.prices where symbol = 'AAPL'",
     [(sorted(r[2] for r in AAPL if r[2] is not None),)], ["array(double)"],
     "functions/aggregate#min_by: a NULL value that is its own key is a NULL key, skipped"),
    # --- counts and sums: bigint
    ("select count_if(close > 200) from stocks.prices", [(2,)], ["bigint"],
     "functions/aggregate#count_if: bigint"),
    ("select count(*), count(close), count(note), count(distinct symbol) from stocks.prices",
     [(6, 5, 3, 3)], ["bigint"] * 4, "functions/aggregate#count: count(x) counts non-NULL values"),
    ("select sum(volume) from stocks.prices", [(sum(VOLUMES),)], ["bigint"],
     "functions/aggregate#sum: sum(bigint) is bigint"),
    (f"select sum(x) from {INTS}", [(10,)], ["bigint"], "functions/aggregate#sum: sum(integer) is bigint"),
    (f"select sum(d) from {DECS}", [(D("3.75"),)], ["decimal(38,2)"],
     "functions/aggregate#sum: sum(decimal(p,s)) is decimal(38,s)"),
    ("select sum(close) from stocks.prices where symbol = 'IBM'", [(163.55,)], ["double"],
     "functions/aggregate#sum: sum(double) is double"),
    ("select sum(volume) from stocks.prices where symbol = 'NONE'", [(None,)], ["bigint"],
     "functions/aggregate#sum: no rows is NULL"),
    ("select coalesce(sum(volume), 0), if(count(*) > 0, sum(volume)) from stocks.prices",
     [(sum(VOLUMES), sum(VOLUMES))], ["bigint", "bigint"],
     "functions/aggregate#sum: still a bigint inside coalesce and if (functions/conditional#coalesce)"),
    ("select coalesce(sum(volume), 0) from stocks.prices where symbol = 'IBM'", [(0,)], ["bigint"],
     "functions/conditional#coalesce: the sum of NULLs is NULL, coalesced to 0"),
    # --- avg
    ("select avg(volume) from stocks.prices", [(sum(VOLUMES) / len(VOLUMES),)], ["double"],
     "functions/aggregate#avg: avg(bigint) is double"),
    (f"select avg(x) from {INTS}", [(2.5,)], ["double"], "functions/aggregate#avg: avg(integer) is double"),
    (f"select avg(d) from {DECS}", [(D("1.88"),)], ["decimal(10,2)"],
     "functions/aggregate#avg: avg(decimal(p,s)) is decimal(p,s); 1.875 rounds half up "
     "(DecimalAverageAggregation)"),
    ("select avg(d) from (values cast(-1.005 as decimal(10,3)), cast(-1.000 as decimal(10,3))) t(d)",
     [(D("-1.003"),)], ["decimal(10,3)"], "functions/aggregate#avg: -1.0025 rounds half away from zero"),
    # --- booleans
    ("select every(close > 100), bool_and(close > 180), bool_or(close > 300) from stocks.prices",
     [(True, False, True)], ["boolean"] * 3, "functions/aggregate#every: NULLs are ignored"),
    # --- array_agg, arbitrary
    ("select array_agg(symbol order by volume desc) from stocks.prices where trade_date = date '2024-01-02'",
     [(["AAPL", "MSFT", "IBM"],)], ["array(varchar)"],
     "functions/aggregate#array_agg: ORDER BY inside; a NULL key sorts last (sql/select#order-by-clause)"),
    ("select array_agg(note order by symbol) from stocks.prices where trade_date = date '2024-01-02'",
     [(["a", None, "x"],)], ["array(varchar)"], "functions/aggregate#array_agg: NULL values are kept"),
    ("select arbitrary(symbol), any_value(symbol) from stocks.prices where symbol = 'IBM'",
     [("IBM", "IBM")], ["varchar", "varchar"], "functions/aggregate#arbitrary"),
    ("select arbitrary(note) from stocks.prices where symbol = 'MSFT'", [("x",)], ["varchar"],
     "functions/aggregate#arbitrary: a non-NULL value"),
    ("select min(trade_date), max(note) from stocks.prices", [(PRICES[0][1], "x")], ["date", "varchar"],
     "functions/aggregate#min: types kept"),
    # --- statistics: one row gives NULL for the sample forms
    ("select stddev(close), stddev_samp(close), stddev_pop(close), variance(close), var_samp(close), var_pop(close) "
     "from stocks.prices where symbol = 'IBM'",
     [(None, None, 0.0, None, None, 0.0)], ["double"] * 6,
     "functions/aggregate#stddev: the sample forms of one row are NULL, the population forms 0"),
    ("select corr(x, y) from (values (1.0e0, 5.0e0), (2.0e0, 5.0e0)) t(x, y)", [(None,)], ["double"],
     "functions/aggregate#corr: NULL where the coefficient is not finite (a constant column; "
     "DoubleCorrelationAggregation writes null unless Double.isFinite)"),
    ("select corr(x, y) from stocks.prices, (values (1.0e0, 2.0e0)) t(x, y)", [(None,)], ["double"],
     "functions/aggregate#corr: one distinct point is NULL"),
    ("select try(sum(volume) / 0) from stocks.prices", [(None,)], ["bigint"],
     "functions/conditional#try: around an aggregate, the failing division gives NULL"),
    ("select try(sum(volume) / count(volume)) from stocks.prices", [(sum(VOLUMES) // len(VOLUMES),)], ["bigint"],
     "functions/conditional#try: around aggregates that do not fail, their value"),
    # --- windows
    ("select symbol, trade_date, row_number() over (partition by symbol order by trade_date) "
     "from stocks.prices order by symbol, trade_date",
     [("AAPL", PRICES[0][1], 1), ("AAPL", PRICES[1][1], 2), ("AAPL", PRICES[2][1], 3), ("IBM", PRICES[5][1], 1),
      ("MSFT", PRICES[3][1], 1), ("MSFT", PRICES[4][1], 2)], ["varchar", "date", "bigint"],
     "functions/window#row_number: bigint"),
    ("select symbol, rank() over (order by symbol), dense_rank() over (order by symbol) "
     "from stocks.prices order by symbol, trade_date",
     [("AAPL", 1, 1)] * 3 + [("IBM", 4, 2), ("MSFT", 5, 3), ("MSFT", 5, 3)], ["varchar", "bigint", "bigint"],
     "functions/window#rank: ties share a rank; rank leaves gaps, dense_rank does not"),
    ("select symbol, percent_rank() over (order by symbol), cume_dist() over (order by symbol) "
     "from stocks.prices order by symbol, trade_date",
     [("AAPL", 0.0, 3 / 6)] * 3 + [("IBM", 3 / 5, 4 / 6), ("MSFT", 4 / 5, 1.0), ("MSFT", 4 / 5, 1.0)],
     ["varchar", "double", "double"],
     "functions/window#percent_rank: (rank - 1) / (rows - 1); cume_dist: rows up to the peer group / rows"),
    ("select ntile(4) over (order by trade_date, symbol) from stocks.prices order by trade_date, symbol",
     [(1,), (1,), (2,), (2,), (3,), (4,)], ["bigint"],
     "functions/window#ntile: 6 rows in 4 buckets are 2, 2, 1, 1"),
    ("select lag(close, 1, -1) over (partition by symbol order by trade_date), "
     "lead(close) over (partition by symbol order by trade_date) "
     "from stocks.prices where symbol = 'AAPL' order by trade_date",
     [(-1.0, 184.25), (185.64, None), (184.25, None)], ["double", "double"],
     "functions/window#lag: the default where there is no row; lead of the last row is NULL"),
    ("select first_value(close) over (partition by symbol order by trade_date), "
     "last_value(close) over (partition by symbol order by trade_date) "
     "from stocks.prices where symbol = 'AAPL' order by trade_date",
     [(185.64, 185.64), (185.64, 184.25), (185.64, None)], ["double", "double"],
     "functions/window#last_value: the default frame ends at the current row"),
    ("select last_value(close) over (partition by symbol order by trade_date "
     "rows between unbounded preceding and unbounded following) "
     "from stocks.prices where symbol = 'MSFT' order by trade_date",
     [(370.60,), (370.60,)], ["double"], "functions/window#last_value: a whole-partition frame"),
    ("select nth_value(close, 2) over (partition by symbol order by trade_date "
     "rows between unbounded preceding and unbounded following) "
     "from stocks.prices where symbol = 'AAPL' order by trade_date",
     [(184.25,)] * 3, ["double"], "functions/window#nth_value"),
    ("select symbol, sum(volume) over (partition by symbol) from stocks.prices "
     "where symbol = 'MSFT' order by trade_date",
     [("MSFT", 25258600 + 23083500)] * 2, ["varchar", "bigint"], "functions/window#aggregate-functions: bigint"),
    ("select coalesce(sum(volume) over (partition by symbol), 0) from stocks.prices where symbol = 'IBM'",
     [(0,)], ["bigint"], "functions/window#aggregate-functions: a window sum stays a bigint inside coalesce"),
    ("select symbol, row_number() over (order by close desc) from stocks.prices order by 2",
     [("MSFT", 1), ("MSFT", 2), ("AAPL", 3), ("AAPL", 4), ("IBM", 5), ("AAPL", 6)], ["varchar", "bigint"],
     "sql/select#order-by-clause: NULLs sort last whatever the direction, in a window too"),
    # --- GROUP BY / HAVING: ORDER BY may use a select-list alias
    ("select symbol as s, count(*) as n from stocks.prices group by symbol order by n desc, s",
     [("AAPL", 3), ("MSFT", 2), ("IBM", 1)], ["varchar", "bigint"],
     "sql/select#order-by-clause: output column names are visible to ORDER BY"),
    ("select symbol, count(*) from stocks.prices group by 1 having count(*) > 1 order by 1",
     [("AAPL", 3), ("MSFT", 2)], ["varchar", "bigint"], "sql/select#having-clause"),
]


def _same(got, expected) -> bool:
    """Equal, doubles to the last couple of units in the last place (the aggregation order of
    floating sums is not fixed in Athena either)."""
    if isinstance(expected, float) and isinstance(got, float):
        return math.isclose(got, expected, rel_tol=1e-12)
    return got == expected


@pytest.mark.parametrize("sql, rows, athena_types, section", CASES, ids=case_ids(CASES))
def test_aggregates_answer_as_athena(athena, sql, rows, athena_types, section):
    answer = athena.answer(sql)
    assert len(answer.rows) == len(rows), (section, answer.rows)
    for got, want in zip(answer.rows, rows):
        assert len(got) == len(want) and all(_same(g, w) for g, w in zip(got, want)), (section, answer.rows)
    assert answer.types == [arrow_type(t) for t in athena_types], section


def test_sample_statistics_of_four_values(athena):
    """functions/aggregate#stddev_samp etc. over 1, 2, 3, 4: mean 2.5, squared deviations 5."""
    answer = athena.answer("select stddev_samp(x), var_samp(x), stddev_pop(x), var_pop(x) "
                           "from (values 1.0e0, 2.0e0, 3.0e0, 4.0e0) t(x)")
    expected = (math.sqrt(5 / 3), 5 / 3, math.sqrt(5 / 4), 5 / 4)
    assert all(math.isclose(g, w, rel_tol=1e-12) for g, w in zip(answer.rows[0], expected)), answer.rows
    assert answer.types == [pa.float64()] * 4


def test_covariance_and_correlation(athena):
    """functions/aggregate#covar_samp: x = 1, 2, 3 and y = 2, 4, 7 have the sum of products of
    deviations 5, so covar_samp 5/2 and covar_pop 5/3; y = 2x correlates with 1."""
    answer = athena.answer("select covar_samp(y, x), covar_pop(y, x) from (values (1e0, 2e0), (2e0, 4e0), (3e0, 7e0)) t(x, y)")
    assert all(math.isclose(g, w, rel_tol=1e-12) for g, w in zip(answer.rows[0], (2.5, 5 / 3))), answer.rows
    assert math.isclose(athena.value("select corr(y, x) from (values (1e0, 2e0), (2e0, 4e0), (3e0, 6e0)) t(x, y)"),
                        1.0, rel_tol=1e-12)


def test_geometric_mean(athena):
    """functions/aggregate#geometric_mean: of 2 and 8 is 4, a double."""
    answer = athena.answer("select geometric_mean(x) from (values 2, 8) t(x)")
    assert math.isclose(answer.rows[0][0], 4.0, rel_tol=1e-12)
    assert answer.types == [pa.float64()]


def test_map_agg_returns_a_map_of_the_pairs(athena):
    """functions/aggregate#map_agg: a map from the key/value pairs; values as Arrow gives them."""
    answer = athena.answer("select map_agg(symbol, volume) from stocks.prices where trade_date = date '2024-01-02'")
    assert answer.types == [pa.map_(pa.string(), pa.int64())]
    assert sorted(answer.rows[0][0]) == [("AAPL", 82488700), ("IBM", None), ("MSFT", 25258600)]


def test_approx_distinct_is_within_its_documented_error(athena):
    """functions/aggregate#approx_distinct: standard error 2.3% (the local answer is exact)."""
    answer = athena.answer("select approx_distinct(symbol) from stocks.prices")
    assert answer.types == [pa.int64()]
    assert abs(answer.rows[0][0] - 3) <= 3 * 0.023 * 3


def test_approx_percentile_is_a_value_within_its_rank_bound(athena):
    """functions/aggregate#approx_percentile: a value of the input near the requested rank
    (bigint in, bigint out; an array of percentages gives an array)."""
    values = "(select cast(n as bigint) as x from unnest(sequence(1, 100)) as u(n))"
    answer = athena.answer(f"select approx_percentile(x, 0.5), approx_percentile(x, array[0.1, 0.9]) from {values}")
    assert answer.types == [pa.int64(), pa.list_(pa.int64())]
    median, (p10, p90) = answer.rows[0]
    assert 49 <= median <= 52 and 9 <= p10 <= 12 and 89 <= p90 <= 92


# (sql, words the user reads, Trino documentation section)
REFUSALS = [
    ("select symbol as s, count(*) from stocks.prices group by s", "Column 's' cannot be resolved",
     "sql/select#group-by-clause: GROUP BY resolves against the FROM clause, not select-list aliases"),
    ("select symbol, count(*) as n from stocks.prices group by symbol having n > 1", "Column 'n' cannot be resolved",
     "sql/select#having-clause: HAVING resolves against the FROM clause"),
    ("select min_by(close, trade_date, volume) from stocks.prices",
     "valid Athena SQL that the local engine does not support yet", "functions/aggregate#min_by: the n form, n not a constant"),
    ("select approx_percentile(close, volume, 0.5) from stocks.prices",
     "valid Athena SQL that the local engine does not support yet", "functions/aggregate#approx_percentile: weights"),
]


@pytest.mark.parametrize("sql, words, section", REFUSALS, ids=case_ids(REFUSALS))
def test_aggregates_refused_as_athena_refuses(athena, sql, words, section):
    athena.refused(sql, words, section, "quantile")


def test_harness_rows_used_above():
    assert [r[2] for r in AAPL] == [185.64, 184.25, None]
