-- Months of payment whose figures a batch of transactions can change.
select distinct date_trunc('month', paid_at)::date as month
from (
    select staged.paid_at
    from {staging} as staged
    union all
    select core.paid_at
    from core.fact_payment as core
    inner join {staging} using (transaction_id)
) as months
where paid_at is not null
order by month
