"""Random changes to a provider's webhook event, for the seeded sweeps of the webhook tests: fields and subtrees
replaced by values of the wrong type, odd strings, huge numbers, null and nested junk, or removed.

Deterministic for a given random.Random(seed), so a failing case is found again by its seed.
"""

ODD_STRINGS = [
    "", " ", "\x00", "\ud83d", "\udc00x", "\U0010ffff", "\u202e", "\ufeff", "x" * 300, "9" * 40, "-1", "0", "1e400",
    "NaN", "null", "true", "[]", "{}", "%s%n", "'; DROP TABLE accounts_business; --", "\\", '"', "\n\r\t",
    "2026-01-01T00:00:00Z", "2025-02-30T10:00:00Z",
]  # fmt: skip
ODD_NUMBERS = [0, -1, 1, 2**31, 2**63, -(2**63), 2**64 + 1, 10**30, 253402300800, 1.5, -0.0, 1e-300, 1e308]


def junk(rng, words=(), depth=0):
    """A random value: a scalar most often, else a list or an object of junk; `words` are strings the provider's
    events hold (ids, statuses, event types), so junk sometimes looks right in the wrong place."""
    strings = ODD_STRINGS + list(words)
    roll = rng.random()
    if depth > 5 or roll < 0.55:
        return rng.choice(
            [rng.choice(strings), rng.choice(ODD_NUMBERS), rng.randint(-(2**70), 2**70), None, True, False]
        )
    if roll < 0.75:
        return [junk(rng, words, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(strings): junk(rng, words, depth + 1) for _ in range(rng.randint(0, 4))}


def _paths(node, prefix=()):
    """Every field and list item under `node`, each as the keys leading to it."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key))


def mutated(rng, event, words=()):
    """`event`, changed in place at one to four random places: a field or item replaced by junk, a field removed,
    or an odd field added beside it."""
    for _ in range(rng.randint(1, 4)):
        paths = list(_paths(event))
        if not paths:
            break
        *parents, last = rng.choice(paths)
        node = event
        for key in parents:
            node = node[key]
        roll = rng.random()
        if roll < 0.15 and isinstance(node, dict):
            del node[last]
        elif roll < 0.25 and isinstance(node, dict):
            node[rng.choice(ODD_STRINGS + list(words))] = junk(rng, words)
        else:
            node[last] = junk(rng, words)
    return event
