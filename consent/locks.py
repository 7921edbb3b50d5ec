"""The per-phone lock that a send and a STOP for the same business and number both take.

On PostgreSQL it is a transaction-scoped advisory lock, released at commit or rollback. SQLite serialises every
writing transaction already, which is enough for the single-process local setup it is used for.
"""

import hashlib
from contextlib import contextmanager

from django.db import connection, transaction


def _key(business_id: int, phone_hash: str) -> int:
    digest = hashlib.blake2b(f"{business_id}:{phone_hash}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_phone(*, business_id: int, phone_hash: str) -> None:
    """Block until no other transaction holds this (business, phone); hold it until the current transaction ends."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_phone() must be called inside transaction.atomic()")
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_key(business_id, phone_hash)])


@contextmanager
def phone_lock(*, business_id: int, phone_hash: str):
    """The same lock, held across several transactions: the send path commits "sending" before it calls the
    provider and records the result after, and a STOP must wait for the whole of it."""
    if connection.vendor != "postgresql":
        yield
        return
    key = _key(business_id, phone_hash)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


@contextmanager
def phone_locks(*, keys):
    """phone_lock() for several (business_id, phone_hash) pairs at once, taken in one round trip and in a fixed
    order, so that two workers locking overlapping batches can never deadlock."""
    if connection.vendor != "postgresql" or not keys:
        yield
        return
    ints = sorted({_key(business_id, digest) for business_id, digest in keys})
    with connection.cursor() as cursor:
        # unnest() yields the array in order, so the locks are taken in ascending key order.
        cursor.execute("SELECT count(pg_advisory_lock(k)) FROM unnest(%s::bigint[]) AS k", [ints])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(pg_advisory_unlock(k)) FROM unnest(%s::bigint[]) AS k", [ints])
