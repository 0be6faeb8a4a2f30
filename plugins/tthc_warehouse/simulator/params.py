"""Every tunable number of the simulator, as data: one row per province plus shared distributions.

Shares are fractions of a province's dossiers unless the column says otherwise. ``target_766``
is the Government Office figure for Jan-Sep 2024 (seed/conference-article.txt), reproduced exactly
by the calibration. ``portal_code`` is the portal's H-code: Phú Thọ = H44 is verified from the
fixture, the others follow the same alphabetical order of Decision 20/2020/QĐ-TTg (unverified).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

DOSSIERS_PER_PROVINCE = 12_000  # Jan-Sep dossiers of an average province at scale 1
REFERENCE_DAYS = 274  # Jan-Sep 2024: other periods get proportionally more or fewer dossiers
TARGET_766 = Decimal("80")  # digitization full-score threshold (DOMAIN §1, unverified)


@dataclass(frozen=True)
class Style:
    """How a province's export prints values (dates, money, status, yes/no, BOM)."""

    dates: str  # vn: dd/MM/yyyy HH:mm | vn_seconds | iso: YYYY-MM-DDTHH:MM:SS | iso_space | excel
    money: str  # dots: 1.234.567 | plain: 1234567 | number (JSON/XLSX native)
    status: str  # label (contract.DOSSIER_STATUS) | code
    booleans: str  # words: có/không | digits: 1/0 | native (JSON true/false, XLSX 1/0 numbers)
    bom: bool = False


@dataclass(frozen=True)
class Profile:
    """One province's parameters (see the PROVINCES table)."""

    code: str
    portal_code: str
    target_766: Decimal
    size: float  # dossiers = scale * DOSSIERS_PER_PROVINCE * size
    online: float  # channel 2
    postal: float  # channel 3
    no_channel: float  # channel null (counts as in person)
    unsynced: float  # received dossiers never synced to the portal
    eresult_share: float  # share of 766 failures due to a paper result without e-result
    late: float  # finished after the due date
    local_gateway: float  # online payments through the province gateway (paid_online 2)
    style: Style


def _row(code: str, portal: str, target: str, size: float, online: float, postal: float,
         no_channel: float, unsynced: float, eresult: float, late: float, local: float,
         style: Style) -> Profile:
    return Profile(code, portal, Decimal(target), size, online, postal, no_channel, unsynced,
                   eresult, late, local, style)


_VN = Style("vn", "dots", "label", "words")
# Hải Dương: about 9.5 % never synced and ~90 % of its 766 failures are paper results without an
# e-copy, so its own components-only rate stays above 98 % while the national one is 88.32 %.
PROVINCES: dict[str, Profile] = {p.code: p for p in (
    #    code portal target  size  online postal null unsync eres  late  local style
    _row("52", "H09", "89.51", 1.00, 0.62, 0.03, 0.02, 0.020, 0.50, 0.06, 0.20,
         Style("vn", "dots", "label", "words", bom=True)),
    _row("30", "H26", "88.32", 1.15, 0.58, 0.02, 0.01, 0.095, 0.90, 0.05, 0.15,
         Style("vn", "dots", "code", "digits", bom=True)),
    _row("02", "H22", "85.86", 0.70, 0.38, 0.02, 0.03, 0.030, 0.45, 0.10, 0.05,
         Style("excel", "number", "label", "words")),
    _row("96", "H12", "84.70", 0.85, 0.55, 0.04, 0.02, 0.020, 0.50, 0.08, 0.25,
         Style("iso", "number", "code", "native")),
    _row("11", "H18", "75.60", 0.60, 0.31, 0.01, 0.03, 0.030, 0.40, 0.14, 0.05, _VN),
    _row("44", "H46", "74.02", 0.80, 0.47, 0.03, 0.02, 0.020, 0.45, 0.09, 0.10,
         Style("iso", "number", "code", "native")),
    _row("49", "H47", "73.44", 1.10, 0.52, 0.03, 0.01, 0.030, 0.40, 0.11, 0.30,
         Style("iso", "number", "label", "native")),
    _row("40", "H41", "72.47", 1.40, 0.44, 0.02, 0.02, 0.025, 0.40, 0.12, 0.10,
         Style("iso_space", "plain", "code", "digits")),
    _row("27", "H06", "65.67", 1.20, 0.68, 0.02, 0.01, 0.015, 0.35, 0.07, 0.20,
         Style("vn_seconds", "number", "code", "native")),
    _row("46", "H57", "55.15", 1.00, 0.66, 0.03, 0.02, 0.020, 0.30, 0.10, 0.15, _VN),
)}

# Shared distributions. Keys are documented values, not magic numbers in the code.
DISTRIBUTIONS: dict[str, object] = {
    "never_received": 0.03,  # online submissions left at status 1 (no received_at)
    "outcomes": {3: 0.025, 7: 0.015, 8: 0.01, "stuck": 0.015},  # rest finish (9/10)
    "supplements": {0: 0.80, 1: 0.15, 2: 0.04, 3: 0.01},  # supplement_count
    "supplement_wait_days": (1, 15),  # calendar days the citizen takes per request
    "missing_due": 0.015,  # due_at not recorded
    "not_picked_up": 0.08,  # finished dossiers left at status 9
    "awaiting_fee": 0.10,  # fee dossiers paid at the desk: an intermediate status 6
    "in_progress_update": 0.6,  # unfinished dossiers with an intermediate update
    "pay_online": {1: 0.10, 2: 0.75, 3: 0.20, None: 0.05},  # fee dossiers paid online by channel
    "payment_status": {"success": 0.90, "failed": 0.05, "abandoned": 0.05},
    "retry_after_failure": 0.75,
    "duplicate_payment": 0.015,
    "over_payment": 0.01,
    "refund_automatic": 0.10,
    "refund_failed": 0.04,
    "refund_manual_days": ((0.7, 3, 30), (0.3, 30, 90)),  # (share, min, max) calendar days
    "refund_request_delay_days": (0, 10),
    "eresult_nonpaper": 0.9,  # finished non-paper procedures issuing an e-result anyway
}

# Payment steps 1..12: most payers go through 4-8 screens (the article's "many operations").
STEP_WEIGHTS: tuple[int, ...] = (1, 2, 4, 9, 15, 18, 17, 14, 9, 6, 3, 2)

# Monthly reception seasonality (Tết in February, summer school enrolment in July-August).
MONTH_WEIGHTS: dict[int, float] = {1: 1.15, 2: 0.75, 3: 1.0, 4: 0.95, 5: 1.0, 6: 1.0, 7: 1.1,
                                   8: 1.05, 9: 0.95, 10: 1.0, 11: 1.0, 12: 1.05}

# Portal snapshot discrepancies: dossiers counted more/less per month, and the sync lag (working
# days at the end of the last month the portal has not received yet).
PORTAL = {"miscount": (1, 4), "sync_lag_days": 2}
