-- The newest staged version of each code in scope ({codes}), read by the update path
-- (fact_dossier_update.sql) and by the insert of new codes staged twice: the codes
-- staged once as they are; of those staged more than once ({repeated}), the newest
-- source_updated_at, then the last file and row. Only those are ranked, so a batch is never
-- sorted for this.
select staged.*  -- noqa: AM04
from {staging} as staged
where {codes} and not {repeated}
union all
(
    select distinct on (staged.dossier_code) staged.*
    from {staging} as staged
    where {codes} and {repeated}
    order by
        staged.dossier_code asc,
        staged.source_updated_at desc,
        staged._file desc,
        staged._row desc
)
