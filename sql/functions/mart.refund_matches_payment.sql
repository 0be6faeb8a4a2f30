-- Whether a refund is for a payment: the refund names the payment's transaction_id, or it names
-- no transaction and is for the payment's dossier. A refund's payment (its amount, or its
-- absence: refund_without_payment) and a payment's refund (refund_never_requested) both follow it.
create or replace function mart.refund_matches_payment(
    refund_transaction_id text,
    refund_dossier_code text,
    payment_transaction_id text,
    payment_dossier_code text
)
returns boolean
language sql
immutable
parallel safe
as $$
    select payment_transaction_id = refund_transaction_id
        or (refund_transaction_id is null and payment_dossier_code = refund_dossier_code)
$$;
