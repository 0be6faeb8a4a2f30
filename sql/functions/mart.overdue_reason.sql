-- Why an overdue dossier is overdue, in words, for mart.overdue_dossiers and its current view.
create or replace function mart.overdue_reason(supplement_count integer, due_at timestamp)
returns text
language sql
immutable
parallel safe
as $$
    select case when supplement_count > 1 then 'more than one supplement request'
        when due_at is null then 'no due date'
        else 'past the due date' end
$$;
