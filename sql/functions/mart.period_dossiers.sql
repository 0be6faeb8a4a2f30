-- The dossiers that can count in the period [first_day, period_end), with their flags
-- (mart.dossier_flags): received before its end, and received in it, or finished in it or
-- later, or not finished. Every flow and month-end stock of a month (and every year-to-date
-- flow up to it) is among them; the marts' own filters pick theirs.
-- Two disjoint halves, each found by an index of core.fact_dossier (migration 0011) rather than
-- by reading the whole history: those received from 28 days before the period on (received_at),
-- and those received earlier and not finished or taking 28 days or more (the partial index of
-- that predicate): one received more than 28 days before the period and finished in it or later
-- took more than 28 days.
-- Reads core, so only the mart builds (as tthc_loader) call it, never a BI view.
create or replace function mart.period_dossiers(first_day date, period_end timestamp)
returns setof mart.dossier_flags
language sql
stable
parallel safe
as $$
    select *
    from mart.dossier_flags as flags
    where
        flags.received_at >= first_day - interval '28 days'
        and flags.received_at < period_end
        and (
            flags.received_at >= first_day
            or flags.finished_at >= first_day
            or flags.finished_at is null
        )
    union all
    select *
    from mart.dossier_flags as flags
    where
        flags.received_at < first_day - interval '28 days'
        and coalesce(flags.finished_at >= flags.received_at + interval '28 days', true)
        and (flags.finished_at >= first_day or flags.finished_at is null)
$$;
