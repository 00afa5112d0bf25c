-- One month of a ledger table with a run's rows replaced by its newest record: the rows
-- of every other run of {{run_month}}, then the run's rows staged in {{staged}}.
with

kept as (
    select {{columns}}
    from {{table}}
    where run_month = {{run_month}}
        and run_id <> {{run_id}}
),

incoming as (
    select {{columns}}
    from {{staged}}
)

select * from kept
union all
select * from incoming
