"""Fixtures: two tenants with a user of each role, SMS backends, and the fake Telnyx server."""

import os
from dataclasses import dataclass

import pytest
import redis

from accounts.models import Business, Membership, Role
from devtools.fakes.signing import TEST_PUBLIC_KEY
from devtools.fakes.telnyx_server import FakeTelnyxServer
from messaging.backends import locmem
from nextalerts import celery_app
from subscribers.models import Keyword, SenderNumber
from tests.factories import KeywordFactory, MembershipFactory, SenderNumberFactory


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    """Each test starts with an empty, private cache (throttle counters), also when REDIS_URL is set."""
    from django.core.cache import cache

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
    cache.clear()


@pytest.fixture(autouse=True)
def _sms_settings(settings):
    """Tests send through the in-memory outbox unless they ask for Telnyx; webhooks verify with the test key."""
    settings.SMS_BACKEND = "locmem"
    settings.TELNYX_PUBLIC_KEY = TEST_PUBLIC_KEY
    settings.TELNYX_API_KEY = "KEY_TEST"
    locmem.outbox.clear()
    celery_app.conf.task_always_eager = True
    yield
    locmem.outbox.clear()


@pytest.fixture
def redis_url():
    """The Redis the tests may use. Skipped only where none answers, and never under CI, where it must."""
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Redis tests, but Redis at {url} is unreachable: {exc}")
        pytest.skip(f"no Redis reachable at {url}: {exc}")
    return url


@pytest.fixture(scope="session")
def fake_telnyx_server():
    with FakeTelnyxServer(api_key="KEY_TEST") as server:
        yield server


@pytest.fixture
def fake_telnyx(fake_telnyx_server, settings):
    """The real telnyx SDK backend, pointed at the fake Telnyx server."""
    fake_telnyx_server.reset()
    settings.SMS_BACKEND = "telnyx"
    settings.TELNYX_BASE_URL = fake_telnyx_server.base_url
    return fake_telnyx_server


@dataclass
class Tenant:
    business: Business
    owner: Membership
    admin: Membership
    member: Membership
    number: SenderNumber
    keyword: Keyword


def _tenant(name):
    owner = MembershipFactory(business__name=name, role=Role.OWNER)
    business = owner.business
    admin = MembershipFactory(business=business, role=Role.ADMIN)
    member = MembershipFactory(business=business, role=Role.MEMBER)
    number = SenderNumberFactory(business=business)
    keyword = KeywordFactory(number=number, keyword="JOIN")
    return Tenant(business, owner, admin, member, number, keyword)


@pytest.fixture
def tenant_a(db):
    return _tenant("Tony's Pizza")


@pytest.fixture
def tenant_b(db):
    return _tenant("Bella Realty")


@pytest.fixture(scope="session")
def fake_stripe_server():
    from devtools.fakes.stripe_server import FakeStripeServer

    with FakeStripeServer(api_key="sk_test_fake") as server:
        yield server


@pytest.fixture
def fake_stripe(fake_stripe_server, settings):
    """Billing on: the real stripe SDK pointed at the fake Stripe server, webhooks signed with the test secret."""
    from devtools.fakes.stripe_signing import TEST_WEBHOOK_SECRET

    fake_stripe_server.reset()
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_API_BASE = fake_stripe_server.base_url
    settings.STRIPE_WEBHOOK_SECRET = TEST_WEBHOOK_SECRET
    settings.STRIPE_PRICE_STARTER = "price_starter_test"
    settings.STRIPE_PRICE_GROWTH = "price_growth_test"
    return fake_stripe_server


@pytest.fixture(scope="session")
def fake_openai_server():
    from devtools.fakes.openai_server import FakeOpenAIServer

    with FakeOpenAIServer(api_key="sk-test") as server:
        yield server


@pytest.fixture
def fake_openai(fake_openai_server, settings):
    """The real openai SDK, pointed at the fake OpenAI server, with drafting switched on."""
    fake_openai_server.reset()
    settings.OPENAI_API_KEY = "sk-test"
    settings.OPENAI_BASE_URL = fake_openai_server.base_url
    settings.OPENAI_MODEL = "gpt-4o-mini"
    settings.AI_DRAFTS_PER_HOUR = 30
    return fake_openai_server


@pytest.fixture
def celery_queues(redis_url):
    """This process's Celery app on Redis, on queues of this test's own: (default queue, reply queue)."""
    from tests.helpers import celery_on_redis

    with celery_on_redis(redis_url) as queues:
        yield queues
