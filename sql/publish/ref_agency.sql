-- Agencies as the feeds reveal them: every receiving and processing unit code, with its level.
-- Each side is aggregated to one row per description with its newest source_updated_at first
-- (a few dozen rows), so only those are sorted; the newest description of each code wins.
with seen as (
    select
        receiving_agency_code as agency_code,
        province_code,
        agency_level,
        max(source_updated_at) as source_updated_at
    from {staging}
    where receiving_agency_code is not null
    group by receiving_agency_code, province_code, agency_level
    union all
    select processing_agency_code, province_code, agency_level, max(source_updated_at)
    from {staging}
    where processing_agency_code is not null
    group by processing_agency_code, province_code, agency_level
)

insert into ref.agency as target (agency_code, province_code, agency_level)
select distinct on (agency_code) agency_code, province_code, agency_level
from seen
order by agency_code asc, source_updated_at desc
on conflict (agency_code) do update set
    province_code = excluded.province_code,
    agency_level = coalesce(excluded.agency_level, target.agency_level)
