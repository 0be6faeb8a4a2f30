-- The bounds a monthly mart is built with, for the month starting on first_day:
-- * month_end: the first instant after the month;
-- * evaluated_at: the month end, or mart.data_as_of while the month is not over (never the clock);
-- * as_of: the month's last day, or the date of mart.data_as_of while the month is not over.
-- A single row without FROM: inlined and pulled up, its values fold into the caller's scan.
-- Reads mart.data_as_of, so only the mart builds (as tthc_loader) call it, never a BI view.
create or replace function mart.month_bounds(first_day date)
returns table (month date, month_end timestamp, evaluated_at timestamp, as_of date)
language sql
stable
parallel safe
as $$
    select
        first_day as month,
        first_day + interval '1 month' as month_end,
        least(first_day + interval '1 month', (select as_of_at from mart.data_as_of))
            as evaluated_at,
        least((first_day + interval '1 month')::date - 1,
            (select as_of_at from mart.data_as_of)::date) as as_of
$$;
