"""Consent reads: the ledger's integrity."""

from dataclasses import dataclass

from .models import ConsentEvent


@dataclass(frozen=True)
class LedgerBreak:
    business_id: int
    sequence: int
    problem: str


def ledger_verify(*, business_ids=None, chunk_size=2000) -> list[LedgerBreak]:
    """Walk each business's chain in order; report every row whose hash, link or sequence is wrong."""
    breaks = []
    queryset = ConsentEvent.objects.order_by("business_id", "sequence")
    if business_ids:
        queryset = queryset.filter(business_id__in=business_ids)
    current, expected_seq, prev_hash = None, 1, ConsentEvent.GENESIS
    for event in queryset.iterator(chunk_size=chunk_size):
        if event.business_id != current:
            current, expected_seq, prev_hash = event.business_id, 1, ConsentEvent.GENESIS
        if event.sequence != expected_seq:
            breaks.append(LedgerBreak(current, event.sequence, f"expected sequence {expected_seq}: rows are missing"))
        if event.prev_hash != prev_hash:
            breaks.append(LedgerBreak(current, event.sequence, "does not link to the previous row"))
        if event.compute_hash() != event.row_hash:
            breaks.append(LedgerBreak(current, event.sequence, "content does not match its hash: the row was edited"))
        expected_seq, prev_hash = event.sequence + 1, event.row_hash
    return breaks
