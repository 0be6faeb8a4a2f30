-- Agencies as the feeds reveal them: every receiving and processing unit code, with its level.
with seen as (
    select receiving_agency_code as agency_code, province_code, agency_level, source_updated_at
    from {staging}
    where receiving_agency_code is not null
    union all
    select processing_agency_code, province_code, agency_level, source_updated_at
    from {staging}
    where processing_agency_code is not null
)

insert into ref.agency as target (agency_code, province_code, agency_level)
select distinct on (agency_code) agency_code, province_code, agency_level
from seen
order by agency_code, source_updated_at desc
on conflict (agency_code) do update set
    province_code = excluded.province_code,
    agency_level = coalesce(excluded.agency_level, target.agency_level)
