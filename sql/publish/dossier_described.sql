-- One pass over the batch for everything publish aggregates, into a temporary table of a few
-- hundred rows (dropped when the publish commits): each combination of month of receipt,
-- procedure description and receiving and processing agency description, with the newest
-- source_updated_at it was seen at. ref_procedure.sql, ref_agency.sql and
-- dossier_months_touched.sql group these rows further instead of reading the batch again.
create temporary table {described} on commit drop as
select
    date_trunc('month', received_at)::date as month,
    procedure_code,
    procedure_name,
    field_code,
    requires_paper_result,
    receiving_agency_code,
    receiving_agency_name,
    processing_agency_code,
    processing_agency_name,
    province_code,
    agency_level,
    max(source_updated_at) as source_updated_at
from {staging}
group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11  -- every column but the newest source_updated_at
