-- One row per received dossier with the per-dossier flags the indicators count. Parameter-free:
-- the marts evaluate them for a month, mart.overdue_dossiers_current at the data's as-of instant.
-- due_766 (DOMAIN §6.2): the appointment date moved later by the days spent waiting for the
-- citizen, in working days of ref.working_day (setting supplement_days_unit 'working', the same
-- time of day) or calendar days ('calendar', and outside the calendar's years). The working day
-- is looked up by number, not walked to: the working days up to the due date (by the date's
-- place in the calendar) plus supplement_days is the place of the deadline among the working
-- days (the arrays of mart.working_day_calendar, built once per query).
-- Names: the procedure's from ref.procedure, else the feed's; the processing agency's.
-- not_accepted (status 3): never received, so out of every received count (DOMAIN §6.3).
create or replace view mart.dossier_flags as
with unit as (
    select coalesce(max(text_value), 'working') as supplement_days_unit
    from ref.setting
    where name = 'supplement_days_unit'
),

dossier as (
    select
        fact.*,
        fact.status in (2, 4, 5, 6) or (
            fact.status in (9, 10)
            and coalesce(fact.finished_at, fact.returned_at) is not null
        ) as timed,
        case
            when fact.status in (9, 10) then coalesce(fact.finished_at, fact.returned_at)
        end as finish_time,
        coalesce(
            case
                when fact.supplement_days > 0 and unit.supplement_days_unit = 'working'
                    then calendar.working_days[
                        coalesce(
                            calendar.working_days_to[fact.due_at::date - calendar.first_day + 1],
                            -- before the calendar: none yet; after it: none left (null)
                            case when fact.due_at::date < calendar.first_day then 0 end
                        ) + fact.supplement_days
                    ]
            end + fact.due_at::time,
            fact.due_at + make_interval(days => fact.supplement_days)
        ) as due_766
    from core.fact_dossier as fact
    cross join unit
    cross join mart.working_day_calendar as calendar
    where fact.received_at is not null
),

final as (
    select
        dossier_code,
        dossier.province_code,
        coalesce(dossier.processing_agency_code, '(none)') as agency_code,
        dossier.procedure_code,
        coalesce(procedure.name, dossier.procedure_name) as procedure_name,
        status,
        received_at,
        due_at,
        supplement_count,
        supplement_days,
        synced_to_portal,
        components_digitized,
        synced_to_portal and components_digitized
        and (not (dossier.requires_paper_result and status in (9, 10)) or result_digitized)
            as is_digitized_766,
        not synced_to_portal and components_digitized as is_unsynced_digitized,
        synced_to_portal and components_digitized and dossier.requires_paper_result
        and status in (9, 10) and not result_digitized as is_e_result_missing,
        synced_to_portal and not components_digitized as is_components_not_digitized,
        coalesce(channel = 2, false) as is_online,
        fee_amount > 0 as is_fee_bearing,
        fee_amount > 0 and paid_online in (1, 2) as is_paid_online,
        timed,
        finish_time as finished_at,
        finish_time is not null and dossier.requires_paper_result as is_paper_finished,
        finish_time is not null and dossier.requires_paper_result and result_digitized
            as is_e_result_finished,
        due_766,
        supplement_count > 1 or due_at is null as late_766_regardless,
        finish_time is not null and supplement_count <= 1
        and coalesce(finish_time <= due_766, false) as on_time_766,
        finish_time is not null
        and (due_at is null or finish_time::date <= due_at::date) as on_time_provincial,
        status = 3 as not_accepted,
        source_updated_at,
        agency.name as agency_name,
        agency.agency_level
    from dossier
    -- names: joins on unique keys, which a query reading none of the names leaves out
    left join ref.agency as agency on dossier.processing_agency_code = agency.agency_code
    left join ref.procedure as procedure on dossier.procedure_code = procedure.procedure_code
)

select * from final
