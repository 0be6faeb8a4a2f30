-- Every ref.province validity row with the unit in force since the 1 Jul 2025 merger that
-- succeeds it, following successor_code through the rows valid when the previous one ended.
create or replace view mart.province_unit_2025 as
with recursive chain as (
    select
        province_code,
        name as province_name,
        valid_from,
        valid_to,
        province_code as unit_code,
        name as unit_name,
        valid_to as unit_valid_to,
        successor_code
    from ref.province
    union all
    select
        chain.province_code,
        chain.province_name,
        chain.valid_from,
        chain.valid_to,
        successor.province_code as unit_code,
        successor.name as unit_name,
        successor.valid_to as unit_valid_to,
        successor.successor_code
    from chain
    inner join ref.province as successor
        on
            chain.successor_code = successor.province_code
            and chain.unit_valid_to >= successor.valid_from
            and (successor.valid_to is null or chain.unit_valid_to < successor.valid_to)
),

final as (
    select
        province_code,
        province_name,
        valid_from,
        valid_to,
        unit_code as province_code_2025,
        unit_name as province_name_2025
    from chain
    where unit_valid_to is null
)

select * from final
