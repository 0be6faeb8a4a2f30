-- Procedures as the feeds reveal them: the newest staged description of each code wins.
insert into ref.procedure as target (procedure_code, name, field_code, requires_paper_result)
select distinct on (procedure_code)
    procedure_code, procedure_name, field_code, requires_paper_result
from {staging}
order by procedure_code, source_updated_at desc, _row desc
on conflict (procedure_code) do update set
    name = coalesce(excluded.name, target.name),
    field_code = coalesce(excluded.field_code, target.field_code),
    requires_paper_result = coalesce(excluded.requires_paper_result, target.requires_paper_result)
