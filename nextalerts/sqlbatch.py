"""Set-based writes of many rows, each with values of its own: one `UPDATE ... FROM unnest(arrays)` on PostgreSQL (one
`UPDATE ... FROM (VALUES ...)` per thousand rows elsewhere) instead of one UPDATE per row. Knows no app: callers name
the table and columns."""

from collections.abc import Iterable, Sequence

from django.db import connection

ROWS_PER_STATEMENT = 1000  # SQLite binds at most 32,766 parameters to a statement


def values_update(
    *,
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Iterable[Sequence],
    assignments: str,
    condition: str = "",
    returning: str = "",
) -> list:
    """UPDATE `table` AS t from a list of rows, each matched on its first value: t.id = v.row_id.

    `columns` names the VALUES columns with their PostgreSQL types, `id` first: [("id", "bigint"), ("outcome",
    "text")]. On PostgreSQL each column is sent as an array of its type, so that a column of NULLs in one batch is
    still of the right type. `assignments` and `condition` are SQL over t (the row) and v (its values):
    "outcome = v.outcome", "t.status = v.expected". With `returning` (the table's columns, bare: "id"), answers the
    rows RETURNING gave, else [].
    """
    quote = connection.ops.quote_name
    # The key is v.row_id, so that RETURNING can name the table's own columns bare (SQLite allows no alias there).
    names = ", ".join(["row_id", *(quote(name) for name, _ in columns[1:])])
    where = "t.id = v.row_id" + (f" AND {condition}" if condition else "")
    tail = f" RETURNING {returning}" if returning else ""
    rows, out = list(rows), []
    if not rows:
        return out
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array per column, unnested into rows: a dozen parameters for any number of rows, and the same short
            # statement text every time (a VALUES list of thousands of placeholders costs the client more to build
            # and the server more to parse than the update itself).
            arrays = ", ".join(f"%s::{kind}[]" for _, kind in columns)
            source = f"unnest({arrays}) AS v ({names})"
            cursor.execute(
                f"UPDATE {quote(table)} AS t SET {assignments} FROM {source} WHERE {where}{tail}",
                [list(column) for column in zip(*rows, strict=True)],
            )
            return cursor.fetchall() if returning else out
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            part = rows[start : start + ROWS_PER_STATEMENT]
            cursor.execute(
                f"WITH v ({names}) AS (VALUES {', '.join([one] * len(part))}) "
                f"UPDATE {quote(table)} AS t SET {assignments} FROM v WHERE {where}{tail}",
                [value for row in part for value in row],
            )
            if returning:
                out += cursor.fetchall()
    return out
