-- The update path, for the codes core already holds (in {known}): the newest staged version of
-- each (newest_staged.sql) replaces core's when it is newer, so a late or replayed file never
-- overwrites a newer one.
update core.fact_dossier as target set
    procedure_code = staged.procedure_code,
    procedure_name = staged.procedure_name,
    field_code = staged.field_code,
    receiving_agency_code = staged.receiving_agency_code,
    processing_agency_code = staged.processing_agency_code,
    agency_level = staged.agency_level,
    province_code = staged.province_code,
    channel = staged.channel,
    submitted_at = staged.submitted_at,
    received_at = staged.received_at,
    due_at = staged.due_at,
    finished_at = staged.finished_at,
    returned_at = staged.returned_at,
    status = staged.status,
    supplement_count = coalesce(staged.supplement_count, 0),
    supplement_days = coalesce(staged.supplement_days, 0),
    components_digitized = coalesce(staged.components_digitized, false),
    result_digitized = coalesce(staged.result_digitized, false),
    requires_paper_result = coalesce(staged.requires_paper_result, false),
    synced_to_portal = coalesce(staged.synced_to_portal, true),
    paid_online = coalesce(staged.paid_online, 0),
    fee_amount = coalesce(staged.fee_amount, 0),
    source_updated_at = staged.source_updated_at,
    batch_id = %(batch_id)s
from {newest} as staged
where
    target.dossier_code = staged.dossier_code
    and staged.source_updated_at > target.source_updated_at
