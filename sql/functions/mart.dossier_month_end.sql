-- Each dossier received before the end of the month starting on first_day, in its state at the
-- month's last instant (DOMAIN §6.1): the status from core.fact_dossier_status_event, never the
-- current one, so later events (stopped, withdrawn, not accepted) never change a closed month.
-- The one place every month-end stock and in-progress row takes its state from.
-- * No event by the month end: received (2); the source recorded its first change later.
-- * in_progress: status 2, 4, 5 or 6 at the month end (or 9/10 finishing after it), unless the
--   dossier's finishing time is before the month end (a source that records the update late).
-- Only the dossiers whose state a month's mart reads: those not finished by the month end (the
-- stock) and those finished late during the month (mart.overdue_dossiers lists them with their
-- status then). Every other dossier received by then is not in progress at the month end.
-- Each state is one backward step in the history's primary key (dossier_code, event_at, status),
-- so the cost follows those dossiers, not the length of the history. The rebuild computes it
-- once per month into a temporary table of the same name that the marts read.
-- Reads core, so only the mart builds (as tthc_loader) call it, never a BI view.
create or replace function mart.dossier_month_end(first_day date)
returns table (dossier_code text, status_at_month_end smallint, in_progress boolean)
language sql
stable
parallel safe
as $$
    with dossier as (
        select
            flags.dossier_code,
            coalesce(last_event.status, 2)::smallint as status_at_month_end,
            flags.finished_at as finish_time
        from mart.period_dossiers(first_day, first_day + interval '1 month') as flags
        left join lateral (
            select event.status
            from core.fact_dossier_status_event as event
            where
                event.dossier_code = flags.dossier_code
                and event.event_at < first_day + interval '1 month'
            order by event.event_at desc, event.status desc
            limit 1
        ) as last_event on true
        where
            flags.finished_at is null
            or flags.finished_at >= first_day + interval '1 month'
            or (
                flags.finished_at >= first_day
                and not (flags.on_time_766 and flags.on_time_provincial)
            )
    )

    select
        dossier_code,
        status_at_month_end,
        case
            when finish_time < first_day + interval '1 month' then false
            else status_at_month_end in (2, 4, 5, 6)
                or (status_at_month_end in (9, 10) and finish_time is not null)
        end
    from dossier
$$;
