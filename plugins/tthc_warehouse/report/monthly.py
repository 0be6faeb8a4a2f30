"""The monthly HTML report: one self-contained file (inline CSS and SVG, no scripts, no network).

Digitization per province against the target as a bar chart, on-time and online rates, refund
problem cases, the weakest agencies and the gaps with the portal's published 766 index, all read
from the ``mart`` schema for one month.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from decimal import Decimal
from pathlib import Path

import psycopg

from tthc_warehouse.db.warehouse import Warehouse
from tthc_warehouse.paths import data_dir, read_sql

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#1d2733;padding:0 1rem}h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;
border-bottom:2px solid #e3e8ee;padding-bottom:.3rem}.sub{color:#5b6b7b;margin-top:0}
table{border-collapse:collapse;width:100%;font-size:.85rem}th,td{padding:.35rem .5rem;text-align:left;
border-bottom:1px solid #eef1f4}th{background:#f5f7fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#17803d;font-weight:600}.bad{color:#b42318;font-weight:600}.note{color:#5b6b7b;font-size:.8rem}
svg text{font-size:12px;fill:#1d2733}
"""


ISSUES = {  # mart.payment_refund_issues.issue_code, as a reader wants it
    "refund_pending_over_limit": "Refund pending beyond the time limit",
    "manual_refund": "Refunded by hand (no automatic refund on the platform)",
    "refund_failed": "Refund failed",
    "refund_without_payment": "Refund with no matching payment",
    "refund_never_requested": "Required refund never requested",
    "excessive_steps": "Payment with excessive steps",
}


def reports_dir() -> Path:
    return Path(os.environ.get("TTHC_REPORTS_DIR", data_dir() / "reports"))


def _rows(conn: psycopg.Connection, name: str, month: dt.date) -> list[dict]:
    cursor = conn.execute(read_sql(f"reports/{name}.sql"), {"month": month})
    columns = [c.name for c in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _cell(value) -> str:
    if value is None:
        return '<td class="n">–</td>'
    if isinstance(value, bool):
        return f'<td class="{"ok" if value else "bad"}">{"yes" if value else "no"}</td>'
    if isinstance(value, int) or (isinstance(value, Decimal) and value == value.to_integral_value()
                                  and value.as_tuple().exponent >= 0):
        return f'<td class="n">{int(value):,}</td>'
    if isinstance(value, float | Decimal):
        return f'<td class="n">{value}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def table(rows: list[dict], columns: dict[str, str], empty: str) -> str:
    if not rows:
        return f'<p class="note">{html.escape(empty)}</p>'
    head = "".join(f"<th>{html.escape(label)}</th>" for label in columns.values())
    body = "".join("<tr>" + "".join(_cell(r[c]) for c in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def bar_chart(rows: list[dict], target: Decimal | None) -> str:
    """Horizontal bars of the year-to-date 766 digitization rate, with the target as a line."""
    width, left, bar, gap = 760, 170, 22, 8
    height = len(rows) * (bar + gap) + 40
    scale = (width - left - 60) / 100
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="Digitization rate per province">']
    for i, row in enumerate(rows):
        rate = row["digitization_rate_766_ytd"] or Decimal(0)
        y = 10 + i * (bar + gap)
        colour = "#2e7d32" if row["meets_digitization_target_ytd"] else "#c62828"
        length = float(rate) * scale
        name = html.escape(row["province_name"])
        parts += [f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{name}</text>',
                  f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar}" fill="{colour}"/>',
                  f'<text x="{left + length + 6:.1f}" y="{y + 16}">{rate} %</text>']
    if target is not None:
        x = left + float(target) * scale
        parts += [f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 22}" stroke="#1d2733" '
                  f'stroke-dasharray="5,4"/>',
                  f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle">target {target} %</text>']
    return "".join(parts) + "</svg>"


def render(conn: psycopg.Connection, month: dt.date) -> str:
    """The report for ``month`` as one HTML string."""
    provinces = _rows(conn, "report_provinces", month)
    target = next((r["digitization_target_pct"] for r in provinces if r["digitization_target_pct"]), None)
    title = f"Administrative-procedure reform — {month:%B %Y}"
    sections = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="sub">Year to date {month.year}, from the warehouse\'s <code>mart</code> schema. '
        f"Digitization: Decision 766 indicator 4.2 (dossiers synced to the national portal).</p>",
        "<h2>Digitization rate per province, year to date, against the target</h2>",
        bar_chart(provinces, target) if provinces else '<p class="note">No data for this month.</p>',
        "<h2>Rates per province</h2>",
        table(provinces, {"province_name": "Province", "dossiers_received_ytd": "Received (YTD)",
                          "digitization_rate_766_ytd": "Digitized 766 %", "digitization_rate_provincial_ytd":
                          "Digitized provincial %", "meets_digitization_target_ytd": "Meets target",
                          "on_time_rate_766_ytd": "On time 766 %", "online_submission_rate_ytd": "Online %",
                          "online_payment_rate_ytd": "Paid online %", "in_progress_overdue_766":
                          "Overdue in progress"}, "No province figures."),
        "<h2>Payment and refund issues this month</h2>",
        table([{**r, "issue": ISSUES.get(r["issue_code"], r["issue_code"])}
               for r in _rows(conn, "report_refund_issues", month)],
              {"issue": "Issue", "province_name": "Province", "cases": "Cases",
               "refund_amount": "Refund amount (VND)", "longest_pending_days": "Longest pending (days)"},
              "No payment or refund issues this month."),
        "<h2>Weakest agencies</h2>",
        table(_rows(conn, "report_weak_agencies", month),
              {"province_name": "Province", "agency_code": "Agency",
               "agency_name": "Agency name", "dossiers_received": "Received",
               "digitization_rate_766": "Digitized 766 %",
               "on_time_rate_766": "On time 766 %", "portal_total_score": "Portal 766 score /100",
               "weak_reason": "Why"}, "No agency is flagged weak."),
        "<h2>Reconciliation with the published Index 766</h2>",
        table(_rows(conn, "report_reconciliation", month),
              {"province_name": "Province", "indicator": "Indicator", "our_rate": "Ours %",
               "portal_rate": "Portal %", "diff_pp": "Difference (pp)", "status": "Status",
               "explanation": "Explanation"}, "No reconciliation rows for this month."),
    ]
    body = "\n".join(sections)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{CSS}</style></head><body>{body}</body></html>")


def write(warehouse: Warehouse, month: dt.date, folder: Path | None = None) -> Path:
    """Write ``<folder>/compliance-YYYY-MM.html`` and return its path."""
    folder = folder or reports_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with warehouse.connect() as conn:
        text = render(conn, month.replace(day=1))
    path = folder / f"compliance-{month:%Y-%m}.html"
    path.write_text(text, encoding="utf-8")
    return path
