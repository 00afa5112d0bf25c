-- The newest run at a glance: how it ended, what it published, how long it took.
with

runs as (
    select
        run_id,
        started_at,
        status,
        published_rows,
        quarantined_rows,
        symbols_failed,
        seconds
    from stocks.pipeline_runs
),

newest as (
    select *
    from runs
    order by started_at desc
    limit 1
)

select
    status,
    published_rows,
    quarantined_rows,
    symbols_failed,
    seconds
from newest
