-- Whether a refund (requested before month_end) was still pending at month_end, from its newest
-- record: pending; completed after it; or failed after it (DOMAIN §6.6: a failed refund leaves
-- the pending stock when it fails, completed_at, else the source's update time).
create or replace function mart.refund_pending_at(
    status text,
    completed_at timestamp,
    source_updated_at timestamp,
    month_end timestamp
)
returns boolean
language sql
immutable
parallel safe
as $$
    select case status
        when 'pending' then true
        when 'completed' then completed_at >= month_end
        when 'failed' then coalesce(completed_at, source_updated_at) >= month_end
        else false
    end
$$;
