-- Per province code, its name and 2025 unit from the newest validity row the code had by the
-- end of the month starting on first_day: the names of the province-level monthly marts. Reads
-- a view over ref.province, so only the mart builds (as tthc_loader) call it, never a BI view.
create or replace function mart.province_at_month_end(first_day date)
returns table (
    province_code text,
    province_name text,
    province_code_2025 text,
    province_name_2025 text
)
language sql
stable
parallel safe
as $$
    select distinct on (unit.province_code)
        unit.province_code,
        unit.province_name,
        unit.province_code_2025,
        unit.province_name_2025
    from mart.province_unit_2025 as unit
    where unit.valid_from < first_day + interval '1 month'
    order by unit.province_code, unit.valid_from desc
$$;
