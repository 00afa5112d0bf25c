-- Closes far from the symbol's previous bar among the rows this run fetched (every fetched row,
-- the unchanged ones too: they are the neighbours a new or restated bar is measured against): the audit's jump rule
-- (no_unexplained_jump) holds back a bar whose close is many times the one before it, which
-- no split explains. Only factors of at least {{min_factor}} come back (the rule decides).
--
-- jump_factor is measured against the previous bar, unless the bar before that is closer:
-- after a one-bar spike the bar back at the old level is not a jump itself.
-- Parameters: min_factor.
with

valid_bars as (
    select
        symbol,
        trade_date,
        close
    from stocks.tmp_daily_prices_fetched
    where parse_error is null
        and trade_date is not null
        and close > 0
),

-- A jump of {{min_factor}} needs two closes of its symbol that far apart: only the symbols whose
-- highest close is at least {{min_factor}} times their lowest are ordered by date (a count per
-- symbol instead of sorting every row of a backfill, most of whose series never span that much).
wide_symbols as (
    select symbol
    from valid_bars
    group by symbol
    having max(close) / min(close) >= {{min_factor}}
),

lagged as (
    select
        symbol,
        trade_date,
        close,
        lag(close, 1) over (partition by symbol order by trade_date) as prev_close,
        lag(trade_date, 1) over (partition by symbol order by trade_date) as prev_date,
        lag(close, 2) over (partition by symbol order by trade_date) as prev2_close
    from valid_bars
    where symbol in (select symbol from wide_symbols)
),

factors as (
    select
        symbol,
        trade_date,
        close,
        prev_close,
        prev_date,
        greatest(close / prev_close, prev_close / close) as factor_1,
        greatest(close / prev2_close, prev2_close / close) as factor_2
    from lagged
    where prev_close is not null
),

jumps as (
    select
        symbol,
        cast(trade_date as varchar) as trade_day,
        cast(prev_date as varchar) as prev_day,
        prev_close,
        least(factor_1, coalesce(factor_2, factor_1)) as jump_factor
    from factors
)

select * from jumps
where jump_factor >= {{min_factor}}
order by symbol, trade_day
