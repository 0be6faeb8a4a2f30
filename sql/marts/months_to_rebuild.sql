-- Months to rebuild when %(months)s changed: a dossier counts in its month of receipt, the month
-- it finishes, every month-end stock until then and the year-to-date sums after, so a change
-- can move any later month. From the earliest given month through the later of the latest given
-- month and the month of mart.data_as_of, the newest source_updated_at in core (never now()).
with given as (
    select
        min(month) as first_month,
        max(month) as last_month
    from unnest(%(months)s::date[]) as month
),

newest as (
    select date_trunc('month', as_of_at)::date as month
    from mart.data_as_of
),

final as (
    select series.month::date as month
    from given
    cross join newest
    cross join
        generate_series(
            given.first_month,
            greatest(given.last_month, newest.month),
            interval '1 month'
        ) as series (month)
    where given.first_month is not null
)

select * from final
order by month
