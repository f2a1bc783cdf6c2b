from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .banner import invalidate_banner
from .models import Protocol


@receiver(post_save, sender=Protocol)
@receiver(post_delete, sender=Protocol)
def protocol_changed(sender, **kwargs):
    """The banner may show this protocol: make it stale (cached pages: see apps.py)."""
    invalidate_banner()
    # Again after commit: a request between the save and the commit could have cached
    # the old row.
    transaction.on_commit(invalidate_banner, using=kwargs.get("using"))


@receiver(post_save, sender=Protocol)
def protocol_opened(sender, instance, **kwargs):
    """Opening a protocol starts the program of its waitlist (the scheduler would, a pass later)."""
    if instance.just_opened:
        from .tasks import enter_waitlisted_subscribers

        transaction.on_commit(lambda: enter_waitlisted_subscribers.enqueue(), robust=True)
