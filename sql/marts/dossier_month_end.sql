-- The month's dossiers for the month %(month)s: every dossier that can count in it, with its flags
-- (mart.dossier_flags) and its state at the month's last instant (DOMAIN §6.1). The rebuild
-- computes it once into the temporary table pg_temp.dossier_month_end (marts/builder.py), which
-- mart.agency_monthly_counts and mart.overdue_dossiers read instead of core; the one place every
-- month-end stock and in-progress row takes its state from.
-- * The dossiers: received before the month end, and received in the month, finished in it or
--   later, or not finished. Read as two disjoint halves an index finds (migration 0011): those
--   received from 28 days before the month on, and those received earlier that are not finished
--   or took 28 days or more (one received more than 28 days before the month and finished in it
--   or later took more than 28 days), so never a pass over the whole history.
-- * status_at_month_end: the dossier's newest version before the month end (its history,
--   mart.dossier_status_history), never a later one, so later events (stopped, withdrawn, not
--   accepted) never change a closed month; received (2) with no version by then (the source
--   recorded its first change later). Core's row is the newest version, so when it was recorded
--   before the month end it is the answer; otherwise one backward step in the primary key
--   (dossier_code, event_at, status) of core.fact_dossier_status_event, the versions core's row
--   replaced. Only for the dossiers a mart shows it for: not finished by the month end, or
--   finished late in the month (mart.overdue_dossiers); null for the others.
-- * in_progress: status 2, 4, 5 or 6 at the month end (or 9/10 finishing after it), unless the
--   dossier's finishing time is before the month end (a source that records the update late).
with dossier as (
    select flags.*
    from mart.dossier_flags as flags
    where
        flags.received_at >= %(month)s::date - interval '28 days'
        and flags.received_at < %(month)s::date + interval '1 month'
        and (
            flags.received_at >= %(month)s::date
            or flags.finished_at >= %(month)s::date
            or flags.finished_at is null
        )
    union all
    select flags.*
    from mart.dossier_flags as flags
    where
        flags.received_at < %(month)s::date - interval '28 days'
        and coalesce(flags.finished_at >= flags.received_at + interval '28 days', true)
        and (flags.finished_at >= %(month)s::date or flags.finished_at is null)
),

state as (
    select
        dossier.*,
        case
            when
                dossier.finished_at is null
                or dossier.finished_at >= %(month)s::date + interval '1 month'
                or not (dossier.on_time_766 and dossier.on_time_provincial)
                then
                    case
                        when dossier.source_updated_at < %(month)s::date + interval '1 month'
                            then dossier.status
                        -- the one lookup, made only here (core's row recorded after the month end)
                        else coalesce((
                            select event.status
                            from core.fact_dossier_status_event as event
                            where
                                event.dossier_code = dossier.dossier_code
                                and event.event_at < %(month)s::date + interval '1 month'
                            order by event.event_at desc, event.status desc
                            limit 1
                        ), 2)::smallint
                    end
        end as status_at_month_end
    from dossier
),

final as (
    select
        *,
        case
            when finished_at < %(month)s::date + interval '1 month' then false
            else
                status_at_month_end in (2, 4, 5, 6)
                or (status_at_month_end in (9, 10) and finished_at is not null)
        end as in_progress
    from state
)

select * from final  -- noqa: AM04
