"""Prints each message to standard output: the default for local development."""

import sys
import threading
import uuid

from ..messages import SendResult
from .base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    _lock = threading.Lock()

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def post(self, sms):
        with self._lock:
            self.stream.write(f"--- SMS {sms.from_number} -> {sms.to_number}\n{sms.text}\n---\n")
            self.stream.flush()
        return SendResult(provider_message_id=f"console-{uuid.uuid4()}")

    def number_owned(self, phone_number):
        # Local development has no provider account: any number may be sent from (to the terminal).
        return True
