-- The seven compliance rates of mart.monthly_compliance (its generated columns, migration 0003)
-- for counts summed outside the table, in the table's column order: the month's flows or the
-- year-to-date ones, with the month-end stock. Each rate is mart.rate; on time is finished on time
-- plus in progress and not overdue, over finished plus in progress (DOMAIN §4). Pure and inlined,
-- so BI views may call it (mart.monthly_compliance_by_2025_unit, for the month and the year).
create or replace function mart.compliance_rates(
    dossiers_received numeric,
    synced_received numeric,
    digitized_766 numeric,
    digitized_provincial numeric,
    online_received numeric,
    fee_bearing_received numeric,
    paid_online_received numeric,
    dossiers_finished numeric,
    finished_on_time_766 numeric,
    finished_on_time_provincial numeric,
    paper_result_finished numeric,
    e_result_finished numeric,
    in_progress_at_month_end numeric,
    in_progress_overdue_766 numeric,
    in_progress_overdue_provincial numeric
)
returns table (
    digitization_rate_766 numeric,
    digitization_rate_provincial numeric,
    online_submission_rate numeric,
    online_payment_rate numeric,
    e_result_rate numeric,
    on_time_rate_766 numeric,
    on_time_rate_provincial numeric
)
language sql
immutable
parallel safe
as $$
    select
        mart.rate(digitized_766, synced_received),
        mart.rate(digitized_provincial, dossiers_received),
        mart.rate(online_received, dossiers_received),
        mart.rate(paid_online_received, fee_bearing_received),
        mart.rate(e_result_finished, paper_result_finished),
        mart.rate(
            finished_on_time_766 + in_progress_at_month_end - in_progress_overdue_766,
            dossiers_finished + in_progress_at_month_end
        ),
        mart.rate(
            finished_on_time_provincial + in_progress_at_month_end - in_progress_overdue_provincial,
            dossiers_finished + in_progress_at_month_end
        )
$$;
