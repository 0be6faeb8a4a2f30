-- Merge one staged batch of the portal's Decision-766 snapshots into core. A snapshot is keyed by
-- unit, period, indicator and capture time, so each capture is kept; the same capture replayed
-- replaces itself.
with latest as (
    select distinct on (
        unit_code, period_type, period_start, indicator_group, indicator_code, captured_at
    ) *
    from {staging}
    order by
        unit_code asc,
        period_type asc,
        period_start asc,
        indicator_group asc,
        indicator_code asc,
        captured_at asc,
        _file desc, _row desc
)

insert into core.fact_index766_snapshot as target (
    unit_code, unit_name, unit_level, parent_code, province_code, period_type, period_start,
    indicator_group, indicator_code, numerator, denominator, ratio, score, max_score, captured_at,
    batch_id, recomputed_ratio, recomputed_score, department_id, data_quality_status,
    data_quality_message, counters
)
select
    unit_code, unit_name, unit_level, parent_code, province_code, period_type, period_start,
    indicator_group, indicator_code, numerator, denominator, ratio, score, max_score, captured_at,
    %(batch_id)s, recomputed_ratio, recomputed_score, department_id, data_quality_status,
    data_quality_message, counters::jsonb
from latest
on conflict (unit_code, period_type, period_start, indicator_group, indicator_code, captured_at)
do update set
    -- the staged capture replaces the whole row (columns in core.fact_index766_snapshot's order;
    -- a column added to the table makes this fail until it is listed)
    (
        unit_code, unit_name, unit_level, parent_code, province_code, period_type, period_start,
        indicator_group, indicator_code, numerator, denominator, ratio, score, max_score,
        captured_at, batch_id, recomputed_ratio, recomputed_score, department_id,
        data_quality_status, data_quality_message, counters
    ) = row (excluded.*)
