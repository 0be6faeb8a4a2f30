-- Each dossier received before the end of the month starting on first_day, in its state at the
-- month's last instant (DOMAIN §6.1): the status from core.fact_dossier_status_event, never the
-- current one, so later events (stopped, withdrawn, not accepted) never change a closed month.
-- The one place every month-end stock and in-progress row takes its state from.
-- * No event by the month end: received (2); the source recorded its first change later.
-- * in_progress: status 2, 4, 5 or 6 at the month end (or 9/10 finishing after it), unless the
--   dossier's finishing time is before the month end (a source that records the update late).
-- Reads core, so only the mart builds (as tthc_loader) call it, never a BI view.
create or replace function mart.dossier_month_end(first_day date)
returns table (dossier_code text, status_at_month_end smallint, in_progress boolean)
language sql
stable
parallel safe
as $$
    with last_event as (
        select distinct on (event.dossier_code) event.dossier_code, event.status
        from core.fact_dossier_status_event as event
        where event.event_at < first_day + interval '1 month'
        order by event.dossier_code asc, event.event_at desc, event.status desc
    ),

    dossier as (
        select
            fact.dossier_code,
            coalesce(last_event.status, 2)::smallint as status_at_month_end,
            case when fact.status in (9, 10) then coalesce(fact.finished_at, fact.returned_at)
            end as finish_time
        from core.fact_dossier as fact
        left join last_event on fact.dossier_code = last_event.dossier_code
        where fact.received_at < first_day + interval '1 month'
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
