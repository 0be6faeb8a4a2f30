-- Keep only the newest staged version of each duplicated code (newest source_updated_at, then
-- the last file and row), so the merge below sees one row per code. Run after the history and
-- the reference tables, which read every version.
with ranked as (
    select
        _file,
        _row,
        row_number() over (
            partition by dossier_code order by source_updated_at desc, _file desc, _row desc
        ) as version
    from {staging}
    where dossier_code in (select dossier_code from {duplicates})
)

delete from {staging} as staged
using ranked
where ranked.version > 1 and staged._file = ranked._file and staged._row = ranked._row
