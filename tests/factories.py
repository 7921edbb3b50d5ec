"""Factories for tenant-owned models. Subscribers are deliberately absent: tests subscribe a number the only way the
product allows, by texting a keyword (see tests.helpers.text_in)."""

import factory

from accounts.models import Business, Membership, Role, User
from subscribers.models import Keyword, SenderNumber

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


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


class KeywordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Keyword

    business = factory.SelfAttribute("number.business")
    number = factory.SubFactory(SenderNumberFactory)
    keyword = factory.Sequence(lambda n: f"JOIN{n}")
