-- Merge one staged batch of fee refunds into core; newest update wins (pending -> completed).
with latest as (
    select distinct on (refund_id) *
    from {staging}
    order by refund_id asc, source_updated_at desc, _file desc, _row desc
)

insert into core.fact_refund as target (
    refund_id, transaction_id, dossier_code, province_code, reason, requested_at, amount,
    method, status, completed_at, source_updated_at, batch_id
)
select
    refund_id, transaction_id, dossier_code, province_code, reason, requested_at, amount,
    method, status, completed_at, source_updated_at, %(batch_id)s
from latest
on conflict (refund_id) do update set
    -- the staged version replaces the whole row (columns in core.fact_refund's order; a
    -- column added to the table makes this fail until it is listed)
    (
        refund_id, transaction_id, dossier_code, province_code, reason, requested_at, amount,
        method, status, completed_at, source_updated_at, batch_id
    ) = row (excluded.*)
where excluded.source_updated_at > target.source_updated_at
