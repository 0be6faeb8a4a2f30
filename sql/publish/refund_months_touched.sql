-- Months of refund request whose figures a batch of refunds can change.
select distinct date_trunc('month', requested_at)::date as month
from (
    select staged.requested_at
    from {staging} as staged
    union all
    select core.requested_at
    from core.fact_refund as core
    inner join {staging} using (refund_id)
) as months
where requested_at is not null
order by month
