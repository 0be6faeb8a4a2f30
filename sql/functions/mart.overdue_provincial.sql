-- Overdue under the provincial rule (dates), evaluated on as_of: a finished dossier is overdue
-- when it did not finish by its due date (mart.dossier_flags.on_time_provincial); one in progress
-- is overdue when its due date is before as_of. No due date is never overdue.
create or replace function mart.overdue_provincial(
    is_finished boolean,
    on_time_provincial boolean,
    due_at timestamp,
    as_of date
)
returns boolean
language sql
immutable
parallel safe
as $$
    select case when is_finished then not on_time_provincial
        else coalesce(due_at::date < as_of, false) end
$$;
