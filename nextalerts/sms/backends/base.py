"""The fixed sequence every backend follows: build the payload, post it, parse the result."""

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
