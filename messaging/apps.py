from django.apps import AppConfig

from nextalerts import metrics


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self):
        from . import collectors  # reads the models, importable once the apps are ready

        metrics.register_collector(collectors.QueueDepthCollector())
        metrics.register_collector(collectors.DeliveryReportsWaitingCollector())
