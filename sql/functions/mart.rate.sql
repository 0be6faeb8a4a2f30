-- A rate in percent with 2 decimals, null when the denominator is 0: the one rate expression of
-- the marts and views. Pure and inlined by the planner, so views bi_reader reads may call it.
-- The generated rate columns of the mart tables (migration 0003) hold the same expression.
create or replace function mart.rate(numerator numeric, denominator numeric)
returns numeric
language sql
immutable
parallel safe
as $$
    select round(100.0 * numerator / nullif(denominator, 0), 2)
$$;
