from django.apps import AppConfig


class ProtocolsConfig(AppConfig):
    name = "protocols"
    verbose_name = "Protocols"

    def ready(self):
        from . import signals  # noqa: F401  (connects the receivers)
