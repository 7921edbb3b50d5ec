from django.apps import AppConfig

from nextalerts import metrics


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self):
        from . import collectors  # its models are importable once the apps are ready

        metrics.register_collector(collectors.QueueDepthCollector())
        metrics.register_collector(collectors.DeliveryReportsWaitingCollector())
