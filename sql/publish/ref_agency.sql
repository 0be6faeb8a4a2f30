-- Agencies as the feeds reveal them: every receiving and processing unit code, with its name (as
-- the provincial exports print it) and level, each description with the newest
-- source_updated_at it was seen at (from {described}, a few hundred rows); the newest
-- description of each code wins, and a feed without names keeps the name already known.
with seen as (
    select
        receiving_agency_code as agency_code,
        province_code,
        receiving_agency_name as name,
        agency_level,
        max(source_updated_at) as source_updated_at
    from {described}
    where receiving_agency_code is not null
    group by receiving_agency_code, province_code, receiving_agency_name, agency_level
    union all
    select
        processing_agency_code, province_code, processing_agency_name, agency_level,
        max(source_updated_at)
    from {described}
    where processing_agency_code is not null
    group by processing_agency_code, province_code, processing_agency_name, agency_level
)

insert into ref.agency as target (agency_code, province_code, name, agency_level)
select distinct on (agency_code) agency_code, province_code, name, agency_level
from seen
order by agency_code asc, source_updated_at desc, name asc, agency_level asc
on conflict (agency_code) do update set
    province_code = excluded.province_code,
    name = coalesce(excluded.name, target.name),
    agency_level = coalesce(excluded.agency_level, target.agency_level)
