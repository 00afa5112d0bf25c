-- Each symbol's newest bar against the last completed session the pipeline targeted
-- (the as-of date of its newest successful run, which follows the NYSE calendar), so a
-- symbol the ingest keeps failing on, or carrying over, stands out as stale.
with

newest_bars as (
    -- from each symbol's years (stocks.symbol_years) rather than from its every bar
    select
        symbol,
        max(newest_date) as newest_trade_date,
        sum(bars) as bars
    from stocks.symbol_years
    group by symbol
),

targeted_sessions as (
    select as_of as session_date
    from stocks.pipeline_runs
    where status = 'succeeded'
    union all
    -- a lake without a successful run yet still has an expectation: its newest bar
    select max(newest_trade_date) as session_date
    from newest_bars
),

last_session as (
    select max(session_date) as session_date
    from targeted_sessions
),

freshness as (
    select
        b.symbol as symbol,
        b.newest_trade_date as newest_trade_date,
        s.session_date as last_session,
        date_diff('day', b.newest_trade_date, s.session_date) as days_behind,
        case
            when b.newest_trade_date >= s.session_date then 'fresh'
            else 'stale'
        end as status,
        b.bars as bars
    from newest_bars as b
    cross join last_session as s
)

select * from freshness
order by days_behind desc, symbol
