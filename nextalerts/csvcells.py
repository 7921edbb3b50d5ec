"""Cells for the CSV files people open in spreadsheets (the subscriber export, the full data export).

A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return) as a formula: a name typed as
`=HYPERLINK("http://evil.example", "Click")` must reach the file as text. Such a cell gets a leading apostrophe, which
spreadsheets take as "text" and do not show. A plain number (a count, a price, an E.164 phone number: a + and digits
only) is left as it is, so the file still matches other systems.
"""

import re

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text
