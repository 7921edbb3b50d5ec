"""Reading a signed webhook body into JSON that every later step can hold: the database, the handlers, a log line.

A signature proves who sent a body, not that it is sensible. JSON can carry what PostgreSQL's text and JSON types
refuse (NUL characters, lone UTF-16 surrogates, NaN and Infinity) and nesting deep enough to exhaust Python's stack;
each is either dropped here (a stray character in a text) or refused with a message saying what is wrong.
"""

import json
import re

# No provider event nests this deep (Telnyx's and Stripe's are under ten levels); deeper is refused, not parsed on.
MAX_DEPTH = 32

# A JSON escape of a NUL or of a UTF-16 surrogate; a surrogate left alone after parsing (no partner) is dropped.
# (A literal surrogate cannot reach here: the body was decoded from UTF-8, which has none.)
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class UnusableBody(ValueError):
    """A signed body that can never be used; the message says why."""


def _refuse_constant(name):
    raise UnusableBody(f"The body holds {name}, which is not a JSON number.")


def _finite_float(text):
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise UnusableBody(f"The number {text[:40]} is too large.")
    return value


def _depth_exceeds(value, limit: int) -> bool:
    """Whether `value` nests containers deeper than `limit`; iterative, so any depth is measured safely."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values() if isinstance(child, dict | list))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item if isinstance(child, dict | list))
    return False


def _cleaned(value):
    if isinstance(value, str):
        return _UNSTORABLE.sub("", value)
    if isinstance(value, dict):
        return {_cleaned(k): _cleaned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    return value


def webhook_json_load(raw: str) -> tuple[object, str]:
    """Parse a verified body. Returns (the value, its text): the text is `raw` itself unless characters had to be
    dropped, then the cleaned value's JSON. Raises UnusableBody for what no later step could hold."""
    try:
        value = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise UnusableBody(f"The body is nested too deeply (more than {MAX_DEPTH} levels).") from None
    except UnusableBody:
        raise
    except ValueError as exc:  # JSONDecodeError, and integers longer than Python reads (4,300 digits)
        raise UnusableBody(f"The body is not JSON: {str(exc)[:200]}") from None
    # Opening brackets bound the depth: an ordinary event has far fewer than the limit, and is not walked.
    if raw.count("{") + raw.count("[") > MAX_DEPTH and _depth_exceeds(value, MAX_DEPTH):
        raise UnusableBody(f"The body is nested too deeply (more than {MAX_DEPTH} levels).")
    if _SUSPECT_ESCAPE.search(raw):
        cleaned = _cleaned(value)
        if cleaned != value:
            return cleaned, json.dumps(cleaned)
    return value, raw
