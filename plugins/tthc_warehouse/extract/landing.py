"""Landing: every extracted payload kept unchanged, addressed by entity, province and interval.

Layout: ``landing/<entity>/<province>/<start>_<end>/<checksum16>/<files>`` plus a
``manifest.json`` in the checksum folder. The same payload twice lands in the same folder and
is recognised (``reused``); a changed payload gets a folder of its own, so a batch can always be
replayed from the exact bytes it was loaded from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from tthc_warehouse.extract.base import SourceError
from tthc_warehouse.paths import landing_dir

# Landed payloads are citizens' dossiers: owner-only, whatever the process umask says.
FILE_MODE = 0o600
DIR_MODE = 0o700


@dataclass(frozen=True)
class Landed:
    folder: str
    files: list[str]
    checksum: str
    bytes: int
    reused: bool

    def paths(self) -> list[Path]:
        return [Path(self.folder) / name for name in self.files]

    def to_dict(self) -> dict:
        """What XCom carries: the folder and a count, not hundreds of names (the manifest has them)."""
        return {**asdict(self), "files": len(self.files)}

    @classmethod
    def from_dict(cls, data: dict) -> Landed:
        manifest = json.loads((Path(data["folder"]) / "manifest.json").read_text(encoding="utf-8"))
        return cls(data["folder"], [f["name"] for f in manifest["files"]], data["checksum"],
                   data["bytes"], data["reused"])


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def interval_folder(entity: str, province_code: str, start: dt.datetime, end: dt.datetime) -> Path:
    return landing_dir() / entity / province_code / f"{start:%Y%m%dT%H%M}_{end:%Y%m%dT%H%M}"


def payload_checksum(entries: list[tuple[str, str]]) -> str:
    """One checksum for a multi-file payload: over the ordered (name, sha256) pairs."""
    return hashlib.sha256("\n".join(f"{n} {s}" for n, s in entries).encode()).hexdigest()


def land(sources: list[Path], target: Path, source_label: str) -> Landed:
    """Copy ``sources`` into the landing folder ``target`` unless that exact payload is there."""
    missing = [str(p) for p in sources if not p.is_file()]
    if missing:
        raise SourceError(
            f"{source_label}: expected file(s) not delivered: {', '.join(missing[:5])}"
            + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        )
    entries = [(p.name, file_sha256(p)) for p in sources]
    checksum = payload_checksum(entries)
    folder = target / checksum[:16]
    size = sum(p.stat().st_size for p in sources)
    names = [name for name, _ in entries]
    if (folder / "manifest.json").is_file():
        return Landed(str(folder), names, checksum, size, reused=True)
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=_ensure(target)))
    for path in sources:
        shutil.copyfile(path, staging / path.name)
        (staging / path.name).chmod(FILE_MODE)
    manifest = {
        "source": source_label,
        "checksum": checksum,
        "files": [{"name": n, "sha256": s} for n, s in entries],
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    (staging / "manifest.json").chmod(FILE_MODE)
    staging.rename(folder)  # atomic: a folder with a manifest is always complete
    return Landed(str(folder), names, checksum, size, reused=False)


def land_folder(pages_dir: Path, target: Path, source_label: str) -> Landed:
    """Land files already fetched into ``pages_dir`` (HTTP pages), then drop the fetch folder."""
    landed = land(sorted(pages_dir.glob("page-*.json")), target, source_label)
    shutil.rmtree(pages_dir, ignore_errors=True)
    return landed


def _ensure(folder: Path) -> Path:
    return private_dir(folder)


def private_dir(folder: Path) -> Path:
    """``folder`` and its parents up to the landing root, readable by the pipeline's user only."""
    folder.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    root = landing_dir().resolve()
    for path in (folder.resolve(), *folder.resolve().parents):
        if path != root and root not in path.parents:
            break
        path.chmod(DIR_MODE)
    return folder
