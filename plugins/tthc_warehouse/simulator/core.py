"""generate(): the ten provinces' feeds for a period, and the figures they should produce."""

from __future__ import annotations

import argparse
import datetime as dt
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from tthc_warehouse.extract.feeds import ProvinceFeed, load_feeds
from tthc_warehouse.simulator.calibrate import rates_from_records
from tthc_warehouse.simulator.clock import Clock
from tthc_warehouse.simulator.feeds_out import days, write_province
from tthc_warehouse.simulator.params import PROVINCES, TARGET_766
from tthc_warehouse.simulator.portal import write_snapshots
from tthc_warehouse.simulator.province import ProvinceData, simulate


@dataclass(frozen=True)
class ProvinceSummary:
    province_code: str
    province_name: str
    dossiers: int  # distinct dossier codes
    records: int  # dossier change records written
    received: int  # dossiers received in the period (final state)
    synced: int  # ... and synced to the portal: the 766 denominator
    digitized_766: int  # ... and digitized by the 766 rule: the numerator
    rate_766: Decimal | None  # recomputed from the records, newest source_updated_at wins
    provincial_rate: Decimal | None  # components digitized over all received, synced or not
    published_rate: Decimal  # the Government Office figure the calibration aims at
    payments: int
    refunds: int  # distinct refund ids
    final_status: dict[int, int]  # dossiers per final status (all dossiers)
    statuses_seen: frozenset[int]  # every status in any record

    @property
    def meets_target(self) -> bool:
        return self.rate_766 is not None and self.rate_766 >= TARGET_766


@dataclass(frozen=True)
class Summary:
    seed: int
    scale: float
    start: dt.date
    end: dt.date
    provinces: dict[str, ProvinceSummary]
    files: int
    bytes: int


def summarize(feed: ProvinceFeed, data: ProvinceData, clock: Clock) -> ProvinceSummary:
    """Figures recomputed from the written records, independent of the calibration arithmetic."""
    end = clock.end_at
    rates = rates_from_records(data.records, dt.datetime.combine(clock.start, dt.time()), end)
    return ProvinceSummary(
        feed.province_code, feed.province_name, rates["dossiers"], len(data.records),
        rates["received"], rates["synced"], rates["digitized_766"], rates["rate_766"],
        rates["provincial_rate"], data.profile.target_766, len(data.payments),
        len({r["refund_id"] for r in data.refunds}),
        dict(sorted(Counter(d.status for d in data.dossiers).items())),
        frozenset(r["status"] for r in data.records))


def generate(inbox: Path, *, seed: int = 766, scale: float = 1.0,
             start: dt.date = dt.date(2024, 1, 1), end: dt.date = dt.date(2024, 10, 1),
             feeds: Sequence[ProvinceFeed] | None = None) -> Summary:
    """Write every daily feed file of [start, end) into ``inbox``; deterministic per seed/scale."""
    inbox = Path(inbox)
    clock = Clock(start, end)
    period = days(start, end)
    provinces: dict[str, ProvinceSummary] = {}
    paths: list[Path] = []
    for feed in sorted(feeds if feeds is not None else load_feeds(),
                       key=lambda f: f.province_code):
        if feed.province_code not in PROVINCES:
            raise ValueError(f"no simulator profile for province {feed.province_code}")
        profile = PROVINCES[feed.province_code]
        data = simulate(profile, clock, seed, scale)
        paths += write_province(inbox, feed, data, period)
        paths += write_snapshots(inbox, _portal_rng(seed, profile.code), profile, data.agencies,
                                 data.dossiers, clock)
        provinces[feed.province_code] = summarize(feed, data, clock)
    return Summary(seed, scale, start, end, provinces, len(paths),
                   sum(p.stat().st_size for p in paths))


def _portal_rng(seed: int, code: str) -> random.Random:
    """Its own stream, so the portal's noise never shifts the feeds' records."""
    return random.Random(f"{seed}:{code}:portal")


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: python -m tthc_warehouse.simulator --inbox DIR [--seed N] [--scale X]."""
    parser = argparse.ArgumentParser(prog="python -m tthc_warehouse.simulator",
                                     description="Generate the ten provinces' feed files.")
    parser.add_argument("--inbox", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=766)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2024, 1, 1))
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2024, 10, 1))
    args = parser.parse_args(argv)
    summary = generate(args.inbox, seed=args.seed, scale=args.scale, start=args.start,
                       end=args.end)
    print(f"{summary.files} files, {summary.bytes / 1e6:.1f} MB in {args.inbox}")
    print(f"{'code':4} {'province':16} {'dossiers':>8} {'synced':>7} {'766 %':>6} "
          f"{'published':>9} verdict")
    for p in summary.provinces.values():
        verdict = "meets 80" if p.meets_target else "below 80"
        print(f"{p.province_code:4} {p.province_name:16} {p.dossiers:8} {p.synced:7} "
              f"{p.rate_766!s:>6} {p.published_rate!s:>9} {verdict}")
    return 0
