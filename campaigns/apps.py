from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self):
        from messaging import signals

        from . import services

        signals.composer_register(services.campaign_message_content)
        signals.messages_settled.connect(services.campaigns_settled, dispatch_uid="campaigns.settled")
