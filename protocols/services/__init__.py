"""Every side effect of protocols, in one place: signups, the program, the outbox.

Views, the admin, commands and tasks call these functions; each is atomic and
idempotent, and emails leave through the EmailDelivery outbox and the worker.
"""

from .delivery import (
    CLAIM_DURATION,
    MAX_ATTEMPTS,
    RETRY_BASE,
    RETRY_MAX_DELAY,
    deliver_email,
    enqueue_deliveries,
    enqueue_delivery,
    is_bounced,
    requeue_due_deliveries,
    retry_delay,
    retry_delivery_now,
    send_batch,
)
from .program import due_time, enter_program, enter_waitlisted, plan_next, reschedule_protocol, send_due_steps
from .signups import (
    MAX_EMAIL_LENGTH,
    RESEND_INTERVAL,
    SignupsClosed,
    _signup_for,
    confirm_signup,
    create_signup,
    normalize_email,
    resend_confirmation,
    unsubscribe,
    validate_signup_email,
)
from .subscriber import erase_data, export_data, lift_bounce, pause, resume, set_time_zone

__all__ = [
    "CLAIM_DURATION",
    "MAX_ATTEMPTS",
    "MAX_EMAIL_LENGTH",
    "RESEND_INTERVAL",
    "RETRY_BASE",
    "RETRY_MAX_DELAY",
    "SignupsClosed",
    "_signup_for",
    "confirm_signup",
    "create_signup",
    "deliver_email",
    "due_time",
    "enqueue_deliveries",
    "enqueue_delivery",
    "enter_program",
    "enter_waitlisted",
    "erase_data",
    "export_data",
    "is_bounced",
    "lift_bounce",
    "normalize_email",
    "pause",
    "plan_next",
    "requeue_due_deliveries",
    "reschedule_protocol",
    "resend_confirmation",
    "resume",
    "retry_delay",
    "retry_delivery_now",
    "send_batch",
    "send_due_steps",
    "set_time_zone",
    "unsubscribe",
    "validate_signup_email",
]
