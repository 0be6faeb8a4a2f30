"""How a feed writes numbers and dates, declared per feed: values that do not fit are quarantined.

Nothing is guessed: ``1,234.5`` in a feed whose amounts are written ``1.234.567`` is not read as
1234.5 or 12345, and a JSON ``1234.5`` is not a whole VND amount. Reading another locale's
separators as thousands separators is how amounts came out 10-100x too large.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

# number style -> (pattern of a whole amount, what a person should see in the reason)
NUMBER_STYLES = {
    "vi": (r"-?(?:\d{1,3}(?:\.\d{3})+|\d+)", "1.234.567 or 1234567"),
    "en": (r"-?(?:\d{1,3}(?:,\d{3})+|\d+)", "1,234,567 or 1234567"),
    "plain": (r"-?\d+", "digits only, like 1234567"),
    "json": (r"-?\d+", "a JSON integer"),
}
DATE_STYLES = {
    # dd/MM/yyyy [HH:mm[:ss]] and ISO 8601 differ in their separators: no value fits two of them.
    "vi": ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
           "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"),
    "iso": ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"),
}
CURRENCY = r"(?i)\s*(vnđ|vnd|đồng|đ|₫)$"


@dataclass(frozen=True)
class ValueFormat:
    """A feed's declared number and date styles (``config/feeds.yaml``: ``numbers``, ``dates``)."""

    numbers: str = "vi"
    dates: str = "vi"

    def __post_init__(self) -> None:
        if self.numbers not in NUMBER_STYLES:
            raise ValueError(f"unknown number style {self.numbers!r} (expected {', '.join(NUMBER_STYLES)})")
        if self.dates not in DATE_STYLES:
            raise ValueError(f"unknown date style {self.dates!r} (expected {', '.join(DATE_STYLES)})")

    @property
    def date_formats(self) -> tuple[str, ...]:
        return DATE_STYLES[self.dates]


def whole_amounts(text: pd.Series, style: str) -> tuple[pd.Series, pd.Series, str]:
    """(Int64 values, bad mask, reason) for VND amounts written in ``style``."""
    pattern, shown = NUMBER_STYLES[style]
    digits = text if style == "json" else text.str.replace(CURRENCY, "", regex=True)
    fits = digits.str.fullmatch(pattern).fillna(False).astype(bool)
    numbers = pd.to_numeric(digits.where(fits).str.replace(r"[.,]", "", regex=True), errors="coerce")
    reason = f"not a VND amount as this feed writes them ({shown})"
    return numbers.astype("Int64"), text.notna() & numbers.isna(), reason


def whole_numbers(text: pd.Series) -> tuple[pd.Series, pd.Series, str]:
    """Counts and codes: digits only (``2.0``, ``1e1``, ``1.234`` are not read as whole numbers)."""
    fits = text.str.fullmatch(r"-?\d+").fillna(False).astype(bool)
    numbers = pd.to_numeric(text.where(fits), errors="coerce")
    return numbers.astype("Int64"), text.notna() & numbers.isna(), "not a whole number"
