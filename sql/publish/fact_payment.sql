-- Merge one staged batch of payment-platform transactions into core; newest update wins.
with latest as (
    select distinct on (transaction_id) *
    from {staging}
    order by transaction_id asc, source_updated_at desc, _file desc, _row desc
)

insert into core.fact_payment as target (
    transaction_id, dossier_code, province_code, amount, paid_at, gateway, status, steps,
    source_updated_at, batch_id
)
select
    transaction_id, dossier_code, province_code, amount, paid_at, gateway, status, steps,
    source_updated_at, %(batch_id)s
from latest
on conflict (transaction_id) do update set
    -- the staged version replaces the whole row (columns in core.fact_payment's order; a
    -- column added to the table makes this fail until it is listed)
    (
        transaction_id, dossier_code, province_code, amount, paid_at, gateway, status, steps,
        source_updated_at, batch_id
    ) = row (excluded.*)
where excluded.source_updated_at > target.source_updated_at
