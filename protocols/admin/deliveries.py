from django.contrib import admin, messages

from .. import audit, services
from ..models import AuditEvent, BouncedAddress, EmailDelivery


class DeliveryStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("undelivered", "Undelivered (waiting or failing)"),
            ("gave_up", "Gave up (needs staff)"),
            ("sent", "Sent"),
            ("skipped", "Skipped"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "undelivered":
            return queryset.filter(sent_at__isnull=True, skipped_reason="")
        if value == "gave_up":
            return queryset.filter(sent_at__isnull=True, gave_up_at__isnull=False)
        if value == "sent":
            return queryset.filter(sent_at__isnull=False)
        if value == "skipped":
            return queryset.exclude(skipped_reason="")
        return queryset


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "to_email",
        "kind",
        "subject_or_step",
        "state",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "short_error",
    ]
    list_filter = [DeliveryStateFilter, "kind", "signup__protocol"]
    list_select_related = ["signup", "step"]
    search_fields = ["to_email", "subject"]
    date_hierarchy = "created_at"
    actions = ["retry_now"]
    readonly_fields = [f.name for f in EmailDelivery._meta.fields]

    def has_add_permission(self, request):
        return False

    @admin.display(description="State")
    def state(self, obj):
        if obj.sent_at:
            return "sent"
        if obj.skipped_reason:
            return f"skipped ({obj.skipped_reason})"
        if obj.gave_up_at:
            return "gave up"
        return "failing, will retry" if obj.attempts else "queued"

    @admin.display(description="Subject")
    def subject_or_step(self, obj):
        if obj.subject:
            return obj.subject
        return f"step {obj.step_position}: {obj.step.subject}" if obj.step else ""

    @admin.display(description="Last error")
    def short_error(self, obj):
        return obj.last_error[:120]

    @admin.action(description="Retry delivery now", permissions=["change"])
    def retry_now(self, request, queryset):
        count = sum(services.retry_delivery_now(delivery=delivery) for delivery in queryset)
        audit.record(
            request, AuditEvent.Action.RETRY, rows=count, details=", ".join(d.to_email for d in queryset)[:2000]
        )
        self.message_user(request, f"{count} email(s) queued again.", messages.SUCCESS)


@admin.register(BouncedAddress)
class BouncedAddressAdmin(admin.ModelAdmin):
    """Addresses whose mail server refused an email for good: no program emails go to them."""

    list_display = ["email", "bounced_at", "short_reason"]
    search_fields = ["email"]
    date_hierarchy = "bounced_at"
    readonly_fields = ["email", "bounced_at", "reason"]
    actions = ["lift"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # Lifting (below) also restarts the stalled programs: plain deletion would not.
        return False

    @admin.display(description="Server's answer")
    def short_reason(self, obj):
        return obj.reason[:120]

    @admin.action(description="Lift: send program emails to these addresses again", permissions=["change"])
    def lift(self, request, queryset):
        lifted = []
        for bounced in queryset:
            services.lift_bounce(bounced=bounced)
            lifted.append(bounced.email)
        audit.record(request, AuditEvent.Action.LIFT, rows=len(lifted), details=", ".join(lifted))
        lifted = len(lifted)
        self.message_user(request, f"{lifted} address(es) lifted; their programs continue.", messages.SUCCESS)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Exports and changes of subscribers' data by staff: read-only, superusers only."""

    list_display = ["at", "username", "action", "rows", "details"]
    list_filter = ["action", "at"]
    search_fields = ["username", "details"]
    date_hierarchy = "at"

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
