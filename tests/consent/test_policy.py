"""can_send(): who may be sent what, as a table."""

import pytest

from accounts.models import Business
from consent.policy import SendKind, can_send
from consent.services import suppression_add_manual
from tests.helpers import text_in

CONSUMER = "+12025550143"

# state of the number -> which kinds may be sent
TABLE = [
    # never texted the business: only answers to what they asked
    ("unknown", SendKind.OPT_OUT_CONFIRMATION, True),
    ("unknown", SendKind.HELP_REPLY, True),
    ("unknown", SendKind.CONVERSATION, True),
    ("unknown", SendKind.OPT_IN_CONFIRMATION, False),
    ("unknown", SendKind.TRANSACTIONAL, False),
    ("unknown", SendKind.MARKETING, False),
    # subscribed: everything
    ("subscribed", SendKind.HELP_REPLY, True),
    ("subscribed", SendKind.OPT_IN_CONFIRMATION, True),
    ("subscribed", SendKind.TRANSACTIONAL, True),
    ("subscribed", SendKind.MARKETING, True),
    # after STOP: the one confirmation and nothing else
    ("stopped", SendKind.OPT_OUT_CONFIRMATION, True),
    ("stopped", SendKind.HELP_REPLY, False),
    ("stopped", SendKind.CONVERSATION, False),
    ("stopped", SendKind.OPT_IN_CONFIRMATION, False),
    ("stopped", SendKind.TRANSACTIONAL, False),
    ("stopped", SendKind.MARKETING, False),
    # on the business's own do-not-text list
    ("manual", SendKind.HELP_REPLY, False),
    ("manual", SendKind.MARKETING, False),
    # a suspended business sends only what consumers asked for
    ("suspended", SendKind.OPT_OUT_CONFIRMATION, True),
    ("suspended", SendKind.HELP_REPLY, True),
    ("suspended", SendKind.TRANSACTIONAL, False),
    ("suspended", SendKind.MARKETING, False),
]


def _arrange(tenant, state):
    if state in ("subscribed", "stopped", "suspended"):
        text_in(from_number=CONSUMER, to_number=tenant.number.phone_number, text="JOIN")
    if state == "stopped":
        text_in(from_number=CONSUMER, to_number=tenant.number.phone_number, text="STOP")
    if state == "manual":
        suppression_add_manual(business=tenant.business, phone=CONSUMER, user=None)
    if state == "suspended":
        tenant.business.status = Business.Status.SUSPENDED
        tenant.business.save()


@pytest.mark.parametrize(("state", "kind", "allowed"), TABLE)
def test_can_send(tenant_a, state, kind, allowed):
    _arrange(tenant_a, state)
    decision = can_send(tenant_a.business, CONSUMER, kind)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.reason


def test_consent_in_one_business_does_not_carry_to_another(tenant_a, tenant_b):
    _arrange(tenant_a, "subscribed")
    assert can_send(tenant_a.business, CONSUMER, SendKind.MARKETING)
    assert not can_send(tenant_b.business, CONSUMER, SendKind.MARKETING)


def test_unknown_kind_is_refused_loudly(tenant_a):
    with pytest.raises(ValueError):
        can_send(tenant_a.business, CONSUMER, "newsletter")
