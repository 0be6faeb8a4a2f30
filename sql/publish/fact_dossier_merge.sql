-- The new codes when the insert-only path met a code staged twice (or one another publish
-- inserted meanwhile; not in {known}): the newest version of each (newest_staged.sql), inserted or
-- replacing core's when newer. Returns the rows core took and the codes merged.
with merged as (
    insert into core.fact_dossier as target (
        dossier_code, procedure_code, procedure_name, field_code, receiving_agency_code,
        processing_agency_code, agency_level, province_code, channel, submitted_at, received_at,
        due_at, finished_at, returned_at, status, supplement_count, supplement_days,
        components_digitized, result_digitized, requires_paper_result, synced_to_portal,
        paid_online, fee_amount, source_updated_at, batch_id
    )
    select
        dossier_code, procedure_code, procedure_name, field_code, receiving_agency_code,
        processing_agency_code, agency_level, province_code, channel, submitted_at, received_at,
        due_at, finished_at, returned_at, status,
        coalesce(supplement_count, 0),
        coalesce(supplement_days, 0),
        coalesce(components_digitized, false),
        coalesce(result_digitized, false),
        coalesce(requires_paper_result, false),
        coalesce(synced_to_portal, true),
        coalesce(paid_online, 0),
        coalesce(fee_amount, 0),
        source_updated_at,
        %(batch_id)s
    from {newest} as staged  -- noqa: AL05
    on conflict (dossier_code) do update
        set
            procedure_code = excluded.procedure_code,
            procedure_name = excluded.procedure_name,
            field_code = excluded.field_code,
            receiving_agency_code = excluded.receiving_agency_code,
            processing_agency_code = excluded.processing_agency_code,
            agency_level = excluded.agency_level,
            province_code = excluded.province_code,
            channel = excluded.channel,
            submitted_at = excluded.submitted_at,
            received_at = excluded.received_at,
            due_at = excluded.due_at,
            finished_at = excluded.finished_at,
            returned_at = excluded.returned_at,
            status = excluded.status,
            supplement_count = excluded.supplement_count,
            supplement_days = excluded.supplement_days,
            components_digitized = excluded.components_digitized,
            result_digitized = excluded.result_digitized,
            requires_paper_result = excluded.requires_paper_result,
            synced_to_portal = excluded.synced_to_portal,
            paid_online = excluded.paid_online,
            fee_amount = excluded.fee_amount,
            source_updated_at = excluded.source_updated_at,
            batch_id = excluded.batch_id
        where excluded.source_updated_at > target.source_updated_at
    returning 1
),

staged as (
    select count(staged._row) as copies
    from {staging} as staged
    where {codes}
),

repeated as (
    select coalesce(sum(copies - 1), 0) as copies
    from {duplicates}
)

select
    (select count(*) from merged) as published,
    staged.copies - repeated.copies as codes
from staged, repeated
