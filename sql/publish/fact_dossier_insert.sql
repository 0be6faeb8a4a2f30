-- The insert-only path: dossiers new to core (the usual nightly case). Codes already present
-- were handled by fact_dossier_update.sql; the unique index skips them without a separate probe.
insert into core.fact_dossier (
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
from {staging}
on conflict (dossier_code) do nothing
