-- The insert-only path, for the codes new to core (not in {known}; all of them on a first
-- load): plain inserts, no conflict check, no sort, and no history row (a code's only version is
-- its row here). A code staged twice violates the primary key: publish then rolls this statement
-- back, finds those codes (dossier_duplicates.sql) and runs it again on the newest staged version
-- of each code in place of the staging table (newest_staged.sql); fact_dossier_status_event.sql
-- keeps the other versions.
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
