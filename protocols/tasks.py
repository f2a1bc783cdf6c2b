from django_tasks import task


@task()
def send_email_delivery(delivery_id):
    """Send one EmailDelivery (the worker runs this; failures are retried by the service)."""
    from .services import deliver_email

    return deliver_email(delivery_id=delivery_id)
