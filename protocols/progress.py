"""Where a subscriber is in their program, for their own page, the admin and the CSV export."""

from dataclasses import dataclass, field

from .models import EmailDelivery, Signup, Step


@dataclass
class StepLine:
    position: int
    subject: str
    sent_at: object = None  # aware datetime, or None


@dataclass
class Progress:
    sent: int
    total: int
    next_due: object  # aware datetime in the subscriber's zone, or None
    on_its_way: bool
    completed: bool
    paused: bool
    started: bool
    lines: list = field(default_factory=list)

    @property
    def summary(self):
        if not self.started:
            return "The program starts when the protocol opens." if self.total else "No emails yet."
        text = f"{self.sent} of {self.total} email{'s' if self.total != 1 else ''} sent"
        if self.completed:
            return f"{text}: program completed."
        if self.paused:
            return f"{text}; paused."
        if self.on_its_way:
            return f"{text}; the next one is on its way."
        if self.next_due:
            return f"{text}; the next one on {self.next_due:%A} {self.next_due.day} {self.next_due:%B at %H:%M}."
        return f"{text}."


def progress_of(signup):
    """Sent steps (as sent, even if since edited or deleted) and the steps still to come."""
    sent = list(
        signup.deliveries.filter(kind=EmailDelivery.Kind.STEP, sent_at__isnull=False)
        .order_by("sent_at", "pk")
        .values_list("step_id", "step_position", "subject", "sent_at")
    )
    sent_ids = {step_id for step_id, *_ in sent if step_id}
    zone = signup.zone
    lines = [StepLine(position or 0, subject, sent_at.astimezone(zone)) for _, position, subject, sent_at in sent]
    to_come = [
        step
        for step in Step.objects.filter(protocol_id=signup.protocol_id).order_by("position", "pk")
        if step.position > signup.last_position_sent and step.pk not in sent_ids
    ]
    lines += [StepLine(step.position, step.subject) for step in to_come]
    in_program = signup.status == Signup.Status.CONFIRMED and signup.program_started_at is not None
    return Progress(
        sent=len(sent),
        total=len(sent) + len(to_come),
        next_due=signup.next_step_due_at.astimezone(zone) if signup.next_step_due_at else None,
        on_its_way=in_program and not signup.next_step_due_at and bool(to_come) and not signup.paused_at,
        completed=signup.completed_at is not None and not to_come,
        paused=signup.paused_at is not None,
        started=signup.program_started_at is not None,
        lines=lines,
    )
