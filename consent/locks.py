"""The per-phone lock that a send and a STOP for the same business and number both take.

On PostgreSQL it is a transaction-scoped advisory lock, released at commit or rollback. SQLite serialises every
writing transaction already, which is enough for the single-process local setup it is used for.
"""

import hashlib

from django.db import connection, transaction


def lock_phone(*, business_id: int, phone_hash: str) -> None:
    """Block until no other transaction holds this (business, phone); hold it until the current transaction ends."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_phone() must be called inside transaction.atomic()")
    if connection.vendor != "postgresql":
        return
    digest = hashlib.blake2b(f"{business_id}:{phone_hash}".encode(), digest_size=8).digest()
    key = int.from_bytes(digest, "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
