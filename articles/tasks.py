from django_tasks import task


@task()
def send_review_reminder(reminder_id):
    """Send one ReviewReminder (the worker runs this; failures are retried by the service)."""
    from .reminders import deliver_reminder

    return deliver_reminder(reminder_id=reminder_id)
