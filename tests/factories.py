"""Factories for tenant-owned models. Subscribers are deliberately absent: tests subscribe a number the only way the
product allows, by texting a keyword (see tests.helpers.text_in)."""

import functools

import factory
from django.conf import settings
from django.contrib.auth.hashers import make_password

from accounts.models import Business, Membership, Role, User
from subscribers.models import Keyword, SenderNumber

TEST_PASSWORD = "correct-horse-battery-staple"


@functools.cache
def _hashed(hashers: tuple[str, ...]) -> str:
    return make_password(TEST_PASSWORD)


def hashed_test_password():
    """A real hash of TEST_PASSWORD (bcrypt, unless a test chose a faster hasher), computed once per hasher setting:
    bcrypt is slow on purpose."""
    return _hashed(tuple(settings.PASSWORD_HASHERS))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.LazyFunction(hashed_test_password)


class BusinessFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Business

    name = factory.Sequence(lambda n: f"Business {n}")
    slug = factory.Sequence(lambda n: f"business-{n}")
    support_contact = "help@example.com"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    business = factory.SubFactory(BusinessFactory)
    role = Role.OWNER


class SenderNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SenderNumber

    business = factory.SubFactory(BusinessFactory)
    phone_number = factory.Sequence(lambda n: f"+1415555{n % 10000:04d}")
    messages_per_second = 100  # tests are not about pacing; tests/campaigns/test_ratelimit.py is


class KeywordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Keyword

    business = factory.SelfAttribute("number.business")
    number = factory.SubFactory(SenderNumberFactory)
    keyword = factory.Sequence(lambda n: f"JOIN{n}")
