-- Procedures as the feeds reveal them: the newest staged description of each code wins (its
-- newest source_updated_at, then the last row of the file). Each description comes with the
-- newest instant it was seen at (from {described}, a few hundred rows); the batch itself is read
-- again only when two different descriptions of one code were both seen at the code's newest
-- instant (the exists below is evaluated once, before that scan would start).
with seen as (
    select
        procedure_code,
        procedure_name,
        field_code,
        requires_paper_result,
        max(source_updated_at) as source_updated_at
    from {described}
    group by procedure_code, procedure_name, field_code, requires_paper_result
),

description as (
    select
        procedure_code,
        procedure_name,
        field_code,
        requires_paper_result,
        source_updated_at,
        rank() over (
            partition by procedure_code order by source_updated_at desc
        ) as age,
        count(*) over (partition by procedure_code, source_updated_at) as rivals
    from seen
    where source_updated_at is not null
),

newest as (
    select procedure_code, procedure_name, field_code, requires_paper_result
    from description
    where age = 1 and rivals = 1
    union all
    (
        select distinct on (staged.procedure_code)
            staged.procedure_code,
            staged.procedure_name,
            staged.field_code,
            staged.requires_paper_result
        from {staging} as staged
        inner join description as tied
            on
                staged.procedure_code = tied.procedure_code
                and staged.source_updated_at = tied.source_updated_at
        where
            tied.age = 1 and tied.rivals > 1
            and exists (
                select 1
                from description
                where age = 1 and rivals > 1
            )
        order by staged.procedure_code asc, staged._row desc
    )
)

insert into ref.procedure as target (procedure_code, name, field_code, requires_paper_result)
select procedure_code, procedure_name, field_code, requires_paper_result
from newest
on conflict (procedure_code) do update set
    name = coalesce(excluded.name, target.name),
    field_code = coalesce(excluded.field_code, target.field_code),
    requires_paper_result = coalesce(excluded.requires_paper_result, target.requires_paper_result)
