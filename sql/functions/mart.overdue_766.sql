-- Overdue under the 766 rule (timestamps), evaluated at evaluated_at: a dossier finished by then
-- is overdue when it did not finish on time (mart.dossier_flags.on_time_766: by due_at +
-- supplement_days, at most one supplement request); one still in progress is overdue after more
-- than one supplement request, with no due date, or once due_at + supplement_days has passed.
create or replace function mart.overdue_766(
    is_finished boolean,
    on_time_766 boolean,
    late_766_regardless boolean,
    due_766 timestamp,
    evaluated_at timestamp
)
returns boolean
language sql
immutable
parallel safe
as $$
    select case when is_finished then not on_time_766
        else late_766_regardless or due_766 < evaluated_at end
$$;
