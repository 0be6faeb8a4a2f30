-- Rows of failed row-level warnings into quarantine, one row per (staged row, failed expectation):
-- the folded flags ({flags}: key + failed expectation indexes) joined once to the batch
-- ({staging}).
with failed as (
    select
        failure.expectation_index,
        failure.expectation,
        failure.reason
    from unnest(%(indexes)s::int[], %(labels)s::text[], %(reasons)s::text[])
        as failure (expectation_index, expectation, reason)
)

insert into quarantine.rejected_row (
    batch_id, entity, source_file, row_number, column_name, expectation, reason, raw
)
select
    %(batch)s,
    %(entity)s,
    s._file,
    s._row,
    '',
    failed.expectation,
    failed.reason,
    to_jsonb(s) - '_file' - '_row'
from {flags} as flags
inner join failed on failed.expectation_index = any(flags.failed)
inner join {staging} as s on flags._file = s._file and flags._row = s._row
on conflict do nothing
