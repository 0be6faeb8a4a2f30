-- Working days in (from_day, to_day], at least 0, by position in mart.working_day_calendar's
-- running count (the caller passes its first_day and working_days_to, read once per query); null
-- when either day is null or outside the calendar. A single expression, inlined into the caller.
-- How mart.overdue_dossiers and mart.overdue_dossiers_current count working_days_overdue.
create or replace function mart.working_days_between(
    from_day date, to_day date, first_day date, working_days_to bigint[]
)
returns integer
language sql
immutable
parallel safe
as $$
    select
        case
            when working_days_to[to_day - first_day + 1] is not null
                and working_days_to[from_day - first_day + 1] is not null
                then greatest(
                    working_days_to[to_day - first_day + 1]
                    - working_days_to[from_day - first_day + 1],
                    0
                )::integer
        end
$$;
