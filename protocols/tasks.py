from django_tasks import task


@task()
def send_email_delivery(delivery_id):
    """Send one EmailDelivery (the worker runs this; failures are retried by the service)."""
    from .services import deliver_email

    return deliver_email(delivery_id=delivery_id)


@task()
def send_email_deliveries(delivery_ids):
    """Send a batch of deliveries over one SMTP connection (the scheduler hands these)."""
    from .services import send_batch

    return send_batch(delivery_ids)


@task()
def reschedule_protocol_steps(protocol_id):
    """After staff edited a protocol's steps: plan every waiting subscriber again."""
    from .services import reschedule_protocol

    return reschedule_protocol(protocol_id)


@task()
def enter_waitlisted_subscribers():
    """After a protocol opened: its confirmed waitlist subscribers enter the program."""
    from .services import enter_waitlisted

    return enter_waitlisted()
