-- Whether a validity row [valid_from, valid_to) of ref.province (mart.province_unit_2025) is
-- in force at the instant given: how a dossier, payment or refund finds its province row and
-- its 2025 unit.
create or replace function mart.in_force(instant timestamp, valid_from date, valid_to date)
returns boolean
language sql
immutable
parallel safe
as $$
    select instant >= valid_from and (valid_to is null or instant < valid_to)
$$;
