-- The insert-only path, for the codes new to core ({codes}: not in {known}; all of them on a first
-- load): plain inserts, no conflict check, no sort. Each row is the code's only version, so it
-- is also the code's whole history, written from the inserted rows without reading the batch
-- again. A code staged twice (or inserted meanwhile by another publish) violates the primary
-- key: publish then rolls this statement back and merges the new codes with
-- fact_dossier_status_event.sql and fact_dossier_merge.sql instead.
with inserted as (
    insert into core.fact_dossier (
        dossier_code, procedure_code, procedure_name, field_code, receiving_agency_code,
        processing_agency_code, agency_level, province_code, channel, submitted_at, received_at,
        due_at, finished_at, returned_at, status, supplement_count, supplement_days,
        components_digitized, result_digitized, requires_paper_result, synced_to_portal,
        paid_online, fee_amount, source_updated_at, batch_id
    )
    select
        staged.dossier_code,
        staged.procedure_code,
        staged.procedure_name,
        staged.field_code,
        staged.receiving_agency_code,
        staged.processing_agency_code,
        staged.agency_level,
        staged.province_code,
        staged.channel,
        staged.submitted_at,
        staged.received_at,
        staged.due_at,
        staged.finished_at,
        staged.returned_at,
        staged.status,
        coalesce(staged.supplement_count, 0),
        coalesce(staged.supplement_days, 0),
        coalesce(staged.components_digitized, false),
        coalesce(staged.result_digitized, false),
        coalesce(staged.requires_paper_result, false),
        coalesce(staged.synced_to_portal, true),
        coalesce(staged.paid_online, 0),
        coalesce(staged.fee_amount, 0),
        staged.source_updated_at,
        %(batch_id)s
    from {staging} as staged
    where {codes}
    returning dossier_code, status, source_updated_at
)

insert into core.fact_dossier_status_event (dossier_code, status, event_at, batch_id)
select dossier_code, status, source_updated_at, %(batch_id)s
from inserted
