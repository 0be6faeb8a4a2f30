-- Procedures as the feeds reveal them: the newest staged description of each code wins.
-- The newest source_updated_at per code is aggregated first; only the staged rows at that
-- instant (a handful per code) are sorted, the last row of the file breaking ties.
with latest as (
    select procedure_code, max(source_updated_at) as source_updated_at
    from {staging}
    group by procedure_code
)

insert into ref.procedure as target (procedure_code, name, field_code, requires_paper_result)
select distinct on (staged.procedure_code)
    staged.procedure_code,
    staged.procedure_name,
    staged.field_code,
    staged.requires_paper_result
from {staging} as staged
inner join latest
    on
        staged.procedure_code = latest.procedure_code
        and staged.source_updated_at = latest.source_updated_at
order by staged.procedure_code asc, staged._row desc
on conflict (procedure_code) do update set
    name = coalesce(excluded.name, target.name),
    field_code = coalesce(excluded.field_code, target.field_code),
    requires_paper_result = coalesce(excluded.requires_paper_result, target.requires_paper_result)
