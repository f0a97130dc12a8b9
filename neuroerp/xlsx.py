"""Excel sheets as the buyers and officers get them (openpyxl): a bold header, column widths and
number formats, the header row frozen and an autofilter over the data, so each sheet can be
filtered and sorted for follow-up work. Shared by the purchasing export and the officer report."""

from __future__ import annotations

import datetime as dt


def cell_value(row: dict, column) -> object:
    """The value of a column (a key of the row, or a function of it) as Excel takes it: floats to
    three decimals, times in UTC without zone (Excel has none)."""
    value = column(row) if callable(column) else row.get(column)
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def add_sheet(wb, title: str, columns: list, rows: list[dict], wrap: bool = False) -> None:
    """One sheet: `columns` are (header, key or function of the row, width, number format or None);
    `wrap` wraps long text in the data rows."""
    from openpyxl.styles import Alignment, Font, PatternFill

    ws = wb.create_sheet(title)
    ws.append([c[0] for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="2F5233")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        ws.append([cell_value(row, c[1]) for c in columns])
    for i, (_, _, width, fmt) in enumerate(columns, start=1):
        letter = ws.cell(row=1, column=i).column_letter
        ws.column_dimensions[letter].width = width
        if fmt or wrap:
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                if fmt:
                    cell.number_format = fmt
                if wrap:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "B2"
    if rows:
        ws.auto_filter.ref = ws.dimensions
