"""The keyword grammar, table-driven: every opt-out, opt-in and help word, and ordinary messages that are none."""

import pytest

from consent.keywords import Intent, classify, normalize

BUSINESS_KEYWORDS = ["PIZZA", "Join"]

CASES = [
    # opt-out words, in any case, with whitespace and punctuation around them
    ("STOP", Intent.OPT_OUT),
    ("stop", Intent.OPT_OUT),
    ("  Stop.  ", Intent.OPT_OUT),
    ("STOP!!!", Intent.OPT_OUT),
    ('"stop"', Intent.OPT_OUT),
    ("STOPALL", Intent.OPT_OUT),
    ("stop all", Intent.OPT_OUT),
    ("STOP   ALL", Intent.OPT_OUT),
    ("UNSUBSCRIBE", Intent.OPT_OUT),
    ("Cancel", Intent.OPT_OUT),
    ("end", Intent.OPT_OUT),
    ("QUIT", Intent.OPT_OUT),
    ("revoke", Intent.OPT_OUT),
    ("OPTOUT", Intent.OPT_OUT),
    ("opt out", Intent.OPT_OUT),
    ("Opt-Out", Intent.OPT_OUT),
    ("\tSTOP\n", Intent.OPT_OUT),
    ("ＳＴＯＰ", Intent.OPT_OUT),  # full-width letters from some keyboards
    # plain-language revocations
    ("Stop texting me", Intent.OPT_OUT),
    ("please stop texting me", Intent.OPT_OUT),
    ("Please stop sending these messages!", Intent.OPT_OUT),
    ("please remove me", Intent.OPT_OUT),
    ("Remove me from this list", Intent.OPT_OUT),
    ("unsubscribe me please", Intent.OPT_OUT),
    ("no more messages", Intent.OPT_OUT),
    ("No more texts please", Intent.OPT_OUT),
    ("Don't text me again", Intent.OPT_OUT),
    ("do not message me", Intent.OPT_OUT),
    ("take me off your list", Intent.OPT_OUT),
    ("I want to opt out", Intent.OPT_OUT),
    ("leave me alone", Intent.OPT_OUT),
    ("wrong number", Intent.OPT_OUT),
    # opt-in words
    ("START", Intent.OPT_IN),
    ("start", Intent.OPT_IN),
    ("UNSTOP", Intent.OPT_IN),
    ("Yes", Intent.OPT_IN),
    ("yes!", Intent.OPT_IN),
    ("SUBSCRIBE", Intent.OPT_IN),
    # the number's own keywords, any case
    ("PIZZA", Intent.KEYWORD),
    ("pizza", Intent.KEYWORD),
    (" Pizza! ", Intent.KEYWORD),
    ("JOIN", Intent.KEYWORD),
    # help
    ("HELP", Intent.HELP),
    ("help?", Intent.HELP),
    ("Info", Intent.HELP),
    # ordinary messages
    ("what time do you open?", Intent.MESSAGE),
    ("Can I stop by tomorrow at 5?", Intent.MESSAGE),
    ("Is the pizza special still on?", Intent.MESSAGE),
    ("Thanks!", Intent.MESSAGE),
    ("I'd like to book a showing for Saturday", Intent.MESSAGE),
    ("STOPPING by later", Intent.MESSAGE),
    ("yesterday's order was great", Intent.MESSAGE),
    ("help me find the menu link", Intent.MESSAGE),
    ("", Intent.MESSAGE),
    ("!!!", Intent.MESSAGE),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_classify(text, expected):
    assert classify(text, BUSINESS_KEYWORDS).intent == expected


def test_business_keyword_reports_its_stored_spelling():
    assert classify("join!", BUSINESS_KEYWORDS).keyword == "Join"


def test_keywords_of_another_number_are_not_recognised():
    assert classify("PIZZA", ["TACO"]).intent == Intent.MESSAGE


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("  Stop. ", "stop"), ("STOP   ALL!", "stop all"), ("¡Hola!", "hola"), ("’stop’", "stop"), ("", "")],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("text", "keyword", "qr_ref"),
    [
        ("JOIN Q7K2", "Join", "Q7K2"),
        ("join q7k2", "Join", "Q7K2"),
        (" Pizza QZZZ! ", "PIZZA", "QZZZ"),
        ("PIZZA", "PIZZA", ""),
    ],
)
def test_a_qr_code_prefilled_text_is_the_keyword_with_its_reference(text, keyword, qr_ref):
    result = classify(text, BUSINESS_KEYWORDS)
    assert (result.intent, result.keyword, result.qr_ref) == (Intent.KEYWORD, keyword, qr_ref)


@pytest.mark.parametrize("text", ["JOIN hello", "Q7K2", "JOIN Q7K", "JOIN Q1K2", "TACO Q7K2", "JOIN Q7K2 please"])
def test_text_that_only_looks_like_a_qr_reference_is_not_one(text):
    result = classify(text, BUSINESS_KEYWORDS)
    assert result.qr_ref == ""
    assert result.intent == Intent.MESSAGE
