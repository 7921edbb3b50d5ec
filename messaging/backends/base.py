"""The fixed sequence every backend follows: build the payload, post it, parse the result; and the one look-up a
backend answers besides sending: whether the platform's account owns a number, so a business can send from it."""

from ..messages import OutboundSms, SendResult


class BaseSmsBackend:
    def send(self, sms: OutboundSms) -> SendResult:
        payload = self.build_payload(sms)
        response = self.post(payload)
        return self.parse_result(response)

    def build_payload(self, sms: OutboundSms):
        return sms

    def post(self, payload):
        raise NotImplementedError("an SMS backend must implement post()")

    def parse_result(self, response) -> SendResult:
        return response

    def number_owned(self, phone_number: str) -> bool:
        """Whether the platform's provider account owns `phone_number` (E.164). Raises NumberCheckUnavailable when the
        provider cannot say."""
        raise NotImplementedError("an SMS backend must implement number_owned()")
