-- Rows sent to quarantine per run and rule; runs that quarantined nothing show as 0,
-- so a quiet pipeline still draws a line.
with

runs as (
    select
        run_id,
        started_at
    from stocks.pipeline_runs
    where $__timeFilter(started_at)
),

quarantined as (
    select
        run_id,
        rule,
        count(*) as quarantined_rows
    from stocks.daily_prices_quarantine
    group by run_id, rule
),

per_run as (
    select
        r.started_at as started_at,
        coalesce(q.rule, 'none') as rule,
        coalesce(q.quarantined_rows, 0) as quarantined_rows
    from runs as r
    left join quarantined as q
        on q.run_id = r.run_id
)

select * from per_run
order by started_at, rule
