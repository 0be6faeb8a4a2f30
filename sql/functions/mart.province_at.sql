-- A province code's name and 2025 unit at an instant: its validity row of mart.province_unit_2025
-- in force then (mart.in_force); no row when ref.province has none for the code at that instant.
-- How a dossier (at receipt), a payment or a refund finds its province's names, in the marts and
-- in mart.overdue_dossiers_current: it reads only a mart view, so BI views may call it.
create or replace function mart.province_at(code text, instant timestamp)
returns table (province_name text, province_code_2025 text, province_name_2025 text)
language sql
stable
parallel safe
as $$
    select unit.province_name, unit.province_code_2025, unit.province_name_2025
    from mart.province_unit_2025 as unit
    where unit.province_code = code and mart.in_force(instant, unit.valid_from, unit.valid_to)
$$;
