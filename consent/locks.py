"""The per-phone lock that a send and a STOP for the same business and number both take.

On PostgreSQL it is an advisory lock: transaction-scoped for a STOP, session-scoped for a send. A session-scoped
lock dies with its database session (a failover, a pooler restart, a network cut), so the send path confirms it
still holds it right before each hand-off. SQLite serialises every writing transaction already, which is enough for
the single-process local setup it is used for.
"""

import hashlib
from contextlib import contextmanager

from django.db import DatabaseError, connection, transaction


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


class HeldLocks:
    """What phone_locks() yields: the locks it took, and SQL to confirm, in the statement that needs it, that the
    session that took them is alive and holds them still."""

    def __init__(self, ints: list[int]):
        self.ints = ints
        self.lost = False  # set by the caller once the session is known to be gone: nothing left to release

    def held_sql(self, business_id: int, phone_hash: str) -> tuple[str, list]:
        """A condition, true only while this session holds the lock of (business, phone). A session-level
        advisory lock on a bigint shows in pg_locks as (classid, objid) = its high and low 32 bits, objsubid 1."""
        if connection.vendor != "postgresql":
            return "1 = 1", []
        key = _key(business_id, phone_hash)
        return (
            "EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted "
            "AND objsubid = 1 AND classid::bigint = %s AND objid::bigint = %s)",
            [(key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF],
        )


@contextmanager
def phone_locks(*, keys):
    """phone_lock() for several (business_id, phone_hash) pairs at once, taken in one round trip and in a fixed
    order, so that two workers locking overlapping batches can never deadlock."""
    if connection.vendor != "postgresql" or not keys:
        yield HeldLocks([])
        return
    ints = sorted({_key(business_id, digest) for business_id, digest in keys})
    with connection.cursor() as cursor:
        # unnest() yields the array in order, so the locks are taken in ascending key order.
        cursor.execute("SELECT count(pg_advisory_lock(k)) FROM unnest(%s::bigint[]) AS k", [ints])
    held = HeldLocks(ints)
    try:
        yield held
    finally:
        if not held.lost:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT count(pg_advisory_unlock(k)) FROM unnest(%s::bigint[]) AS k", [ints])
            except DatabaseError:
                # The session is gone, and its locks with it; the next use of the connection opens a new one.
                connection.close()


def phone_try_locks_xact(*, keys) -> set[tuple[int, str]]:
    """Of these (business_id, phone_hash) pairs, the ones whose lock nobody holds: they are taken until the current
    transaction ends. A live worker holds the locks of the messages it is handing over, so what this gets is free."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("phone_try_locks_xact() must be called inside transaction.atomic()")
    keys = set(keys)
    if connection.vendor != "postgresql" or not keys:
        return keys
    by_int = {}
    for business_id, digest in keys:
        by_int.setdefault(_key(business_id, digest), []).append((business_id, digest))
    with connection.cursor() as cursor:
        cursor.execute("SELECT k FROM unnest(%s::bigint[]) AS k WHERE pg_try_advisory_xact_lock(k)", [sorted(by_int)])
        return {pair for (k,) in cursor.fetchall() for pair in by_int[k]}
