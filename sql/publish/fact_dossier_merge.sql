-- The new codes when the insert-only path met a code staged twice (or one another publish
-- inserted meanwhile): the newest staged version of each (newest source_updated_at, then the
-- last file and row) is inserted, or replaces core's when newer. Returns how many codes were
-- merged and how many rows core took.
with newest as (
    select distinct on (staged.dossier_code) staged.*
    from {staging} as staged
    where {codes}
    order by
        staged.dossier_code asc,
        staged.source_updated_at desc,
        staged._file desc,
        staged._row desc
),

merged as (
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
    from newest
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
)

select
    (select count(*) from newest) as codes,
    (select count(*) from merged) as published
