-- Rows failing each audit rule, per run, over the time range.
with

results as (
    select
        started_at,
        rule,
        failing_rows
    from stocks.audit_results
    where $__timeFilter(started_at)
)

select * from results
order by started_at, rule
