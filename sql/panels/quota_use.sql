-- Alpha Vantage calls used per day against the daily allowance configured for the key.
with

runs as (
    select
        cast(started_at as date) as run_date,
        calls_used,
        calls_allowance
    from stocks.pipeline_runs
    where $__timeFilter(started_at)
),

per_day as (
    select
        run_date,
        sum(calls_used) as calls_used,
        max(calls_allowance) as calls_allowance
    from runs
    group by run_date
)

select * from per_day
order by run_date
