"""Keeps sent messages in `outbox`, a module-level list, for tests."""

import uuid

from ..messages import SendResult
from .base import BaseSmsBackend

outbox = []
# The numbers the pretend account owns, for tests that need one it lacks; None: every number.
owned_numbers: set[str] | None = None


class SmsBackend(BaseSmsBackend):
    def post(self, sms):
        outbox.append(sms)
        return SendResult(provider_message_id=f"locmem-{uuid.uuid4()}")

    def number_owned(self, phone_number):
        return owned_numbers is None or phone_number in owned_numbers
