"""Keeps sent messages in `outbox`, a module-level list, for tests."""

import uuid

from ..messages import SendResult
from .base import BaseSmsBackend

outbox = []


class SmsBackend(BaseSmsBackend):
    def post(self, sms):
        outbox.append(sms)
        return SendResult(provider_message_id=f"locmem-{uuid.uuid4()}")
