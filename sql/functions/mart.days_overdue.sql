-- Calendar days from the due date to end_day (the finish date, or the as-of date while in
-- progress), at least 0; null without a due date.
create or replace function mart.days_overdue(due_at timestamp, end_day date)
returns integer
language sql
immutable
parallel safe
as $$
    select case when due_at is not null then greatest(end_day - due_at::date, 0) end
$$;
