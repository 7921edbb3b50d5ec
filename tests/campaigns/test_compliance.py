"""The message-text checks (campaigns/compliance.py), the same for hand-written bodies and suggested drafts."""

from types import SimpleNamespace

import pytest

from campaigns import ai, compliance

TONYS = SimpleNamespace(name="Tony's Pizza", category="pizza shop")
GOOD = "Tony's Pizza: 20% off all pizzas this Friday! Reply STOP to opt out"
LONG = "Tony's Pizza: " + "x" * 200 + " Reply STOP to opt out"
BEER = "Tony's Pizza: free beer Friday! Reply STOP to opt out"
STOP_FIRST = "Tony's Pizza: Reply STOP to opt out.\nNow the real news: 2 for 1 pizza all week long for everybody!"


def codes(issues):
    return [issue.code for issue in issues]


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        (GOOD, []),
        ("TONY'S PIZZA: 2 for 1 tonight. Reply STOP to cancel", []),
        ("Tony\u2019s Pizza: 2 for 1 tonight. Reply STOP to cancel", []),  # a curly apostrophe still names it
        ("Tony's Pizza: open late. Text STOP to unsubscribe, HELP for help. Msg&data rates may apply.", []),
        ("Tony's Pizza: open late. STOP to end", []),
        ("Tony's: 2 for 1 tonight. Reply STOP to cancel", ["business-name"]),
        ("2 for 1 pizza tonight! Reply STOP to opt out", ["business-name"]),
        ("Tony's Pizza: 2 for 1 pizza tonight!", ["opt-out"]),
        (STOP_FIRST, ["opt-out"]),
        ("Tony's Pizza: don't stop believing in pizza!", ["opt-out"]),
        ("Tony's Pizza: menu at bit.ly/tonys. Reply STOP to opt out", ["shortener"]),
        ("Tony's Pizza: menu at https://TinyURL.com/x. Reply STOP to opt out", ["shortener"]),
        ("Tony's Pizza: menu at https://t.co/abc. Reply STOP to opt out", ["shortener"]),
        ("Tony's Pizza: menu at https://tonys.com/menu. Reply STOP to opt out", []),  # not t.co
        ("Tony's Pizza: menu at https://bit.ly.example.com/x. Reply STOP to opt out", []),
        ("Hi! bit.ly/x", ["business-name", "opt-out", "shortener"]),
    ],
)
def test_blocking_problems_of_hand_written_bodies(body, problems):
    assert codes(compliance.body_check(body=body, business=TONYS).problems) == problems


@pytest.mark.parametrize(
    ("name", "body", "named"),
    [
        ("Acme Plumbing LLC", "Acme Plumbing: 10% off. Reply STOP to opt out", True),
        ("Acme Plumbing, Inc.", "Acme Plumbing: 10% off. Reply STOP to opt out", True),
        ("Acme Plumbing", "acme   plumbing: 10% off. Reply STOP to opt out", True),
        ("Acme Plumbing", "Acme: 10% off. Reply STOP to opt out", False),
    ],
)
def test_the_business_name_is_matched_loosely_on_case_spaces_and_legal_suffixes(name, body, named):
    assert compliance.names_business(body, name) is named


@pytest.mark.parametrize(
    ("body", "flags"),
    [
        (GOOD, []),
        ("Tony's Pizza: free beer with every pizza! Reply STOP to opt out", ["shaft-alcohol"]),
        ("Tony's Pizza: Happy Hour 5-7! Reply STOP to opt out", ["shaft-alcohol"]),
        ("Tony's Pizza: gun show parking here. Reply STOP to opt out", ["shaft-firearms"]),
        ("Tony's Pizza: we sell cigars and vapes. Reply STOP to opt out", ["shaft-tobacco"]),
        ("Tony's Pizza: sexy new menu. Reply STOP to opt out", ["shaft-sex"]),
        ("Tony's Pizza: wine and cigarettes. Reply STOP to opt out", ["shaft-alcohol", "shaft-tobacco"]),
        ("Tony's Pizza: ginger ale, rumba night, begun. Reply STOP to opt out", []),  # words inside words
    ],
)
def test_carrier_filtered_content_is_flagged_with_the_reason_not_blocked(body, flags):
    check = compliance.body_check(body=body, business=TONYS)
    assert codes(check.flags) == flags
    assert check.ok
    for flag in check.flags:
        assert "Carriers often filter" in flag.message


def test_a_flag_quotes_the_word_that_raised_it():
    (flag,) = compliance.body_check(body="Tony's Pizza: free BEER. Reply STOP to opt out", business=TONYS).flags
    assert "alcohol" in flag.message and "“beer”" in flag.message


@pytest.mark.parametrize(
    ("body", "max_segments", "problems"),
    [
        (GOOD, 1, []),
        ("Tony's Pizza: " + "x" * 130 + " Reply STOP to opt out", 1, ["too-long"]),
        ("Tony's Pizza: " + "x" * 130 + " Reply STOP to opt out", 2, []),
        ("Tony's Pizza: " + "x" * 130 + " Reply STOP to opt out", None, []),  # hand-written: no budget given
        ("Tony's Pizza: 🍕" + "x" * 40 + " Reply STOP to opt out", 1, ["too-long"]),  # UCS-2: 70 a segment
    ],
)
def test_the_segment_budget(body, max_segments, problems):
    assert codes(compliance.body_check(body=body, business=TONYS, max_segments=max_segments).problems) == problems


@pytest.mark.parametrize(
    ("body", "repaired", "notes"),
    [
        (GOOD, GOOD, ()),
        ("Don\u2019t wait", "Don't wait", ("replaced '’' with \"'\"",)),
        ("\u201cBig\u201d deal \u2014 today\u2026", '"Big" deal - today...', (
            "replaced '“' with '\"'", "replaced '”' with '\"'", "replaced '—' with '-'", "replaced '…' with '...'",
        )),
        ("a\u00a0b\u200bc", "a bc", ("replaced '\\xa0' with ' '", "removed '\\u200b'")),
        ("Pizza 🍕 \u2019", "Pizza 🍕 '", ("replaced '’' with \"'\"",)),  # the emoji is the business's choice
    ],
)  # fmt: skip
def test_repair_replaces_typographic_characters_and_says_so(body, repaired, notes):
    repair = compliance.body_repair(body)
    assert (repair.body, repair.notes) == (repaired, notes)


def test_a_body_that_is_ucs2_only_for_a_curly_quote_gets_a_note():
    check = compliance.body_check(body="Tony\u2019s Pizza: 2 for 1. Reply STOP to opt out", business=TONYS)
    assert check.measurement.encoding == "UCS-2"
    assert check.notes and "UCS-2" in check.notes[0]
    repaired = compliance.body_repair("Tony\u2019s Pizza: 2 for 1. Reply STOP to opt out").body
    assert compliance.body_check(body=repaired, business=TONYS).measurement.encoding == "GSM-7"
    emoji = compliance.body_check(body="Tony\u2019s Pizza 🍕. Reply STOP to opt out", business=TONYS)
    assert emoji.notes == ()  # replacing the quote would not make it GSM-7


# The same checks on what the provider writes: each draft is repaired where it can be, or dropped.
@pytest.mark.parametrize(
    ("text", "max_segments", "expected", "notes"),
    [
        (GOOD, 1, GOOD, ()),
        ("Tony\u2019s Pizza \u2014 20% off! Reply STOP to opt out", 1, "Tony's Pizza - 20% off! Reply STOP to opt out",
         ("replaced '’' with \"'\"", "replaced '—' with '-'")),
        ("20% off Friday! Reply STOP to opt out", 1, "Tony's Pizza: 20% off Friday! Reply STOP to opt out",
         ("added your business name",)),
        ("Tony's Pizza: 20% off Friday", 1, "Tony's Pizza: 20% off Friday. Reply STOP to opt out",
         ("added “Reply STOP to opt out”",)),
        ("Tony's Pizza: order at bit.ly/tp. Reply STOP to opt out", 1, None, ()),  # a shortener: dropped
        (LONG, 1, None, ()),  # over budget: dropped
        (LONG, 2, LONG, ()),
        (BEER, 1, BEER, ()),
    ],
)  # fmt: skip
def test_suggested_drafts_are_repaired_or_dropped(text, max_segments, expected, notes):
    draft = ai.draft_finish(text=text, business=TONYS, max_segments=max_segments)
    if expected is None:
        assert draft is None
        return
    assert (draft.body, draft.notes) == (expected, notes)
    assert draft.check.ok and draft.check.measurement.encoding == "GSM-7"


def test_a_suggested_draft_about_beer_keeps_its_flag_for_the_business_to_decide():
    draft = ai.draft_finish(text="Tony's Pizza: free beer! Reply STOP to opt out", business=TONYS, max_segments=1)
    assert codes(draft.check.flags) == ["shaft-alcohol"]
