-- Months of receipt whose figures a batch can change: the staged rows' months and, for dossiers
-- already in core, the month they were counted in until now.
select distinct date_trunc('month', received_at)::date as month
from (
    select staged.received_at
    from {staging} as staged
    union all
    select core.received_at
    from core.fact_dossier as core
    inner join {staging} using (dossier_code)
) as months
where received_at is not null
order by month
