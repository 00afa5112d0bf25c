-- Every audit rule of the newest audited run: passed or not, and by how much.
with

results as (
    select
        run_id,
        started_at,
        rule,
        kind,
        success,
        failing_rows,
        threshold,
        observed,
        example
    from stocks.audit_results
),

newest_run as (
    select max(started_at) as started_at
    from results
),

latest as (
    select
        r.rule as rule,
        r.kind as kind,
        r.success as success,
        r.failing_rows as failing_rows,
        r.threshold as threshold,
        r.observed as observed,
        r.example as example
    from results as r
    inner join newest_run as n
        on r.started_at = n.started_at
)

select * from latest
order by success, kind, rule
