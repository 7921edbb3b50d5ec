from django.apps import AppConfig


class SmsConfig(AppConfig):
    name = "nextalerts.sms"
    label = "sms"
    verbose_name = "SMS gateway"
