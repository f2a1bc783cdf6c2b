import csv

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower
from django.http import StreamingHttpResponse
from django.utils import timezone

from .. import audit, services
from ..models import AuditEvent, BouncedAddress, Signup


def _described(request):
    """The list's filters and search, so the audit says which rows."""
    query = request.GET.urlencode()
    return f"filters: {query}" if query else "no filters"


def with_bounced(queryset):
    """Annotate `is_bounced` in the same query (the list and the export need it per row)."""
    bounced = BouncedAddress.objects.annotate(email_lower=Lower("email")).filter(email_lower=Lower(OuterRef("email")))
    return queryset.annotate(is_bounced=Exists(bounced))


# --- CSV export ---------------------------------------------------------------------------

CSV_COLUMNS = [
    "email",
    "protocol",
    "status",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
    "consented_at",
    "last_step_sent",
    "last_step_sent_at",
    "next_step_due_at",
    "paused_at",
    "completed_at",
    "bounced",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    """Neutralise spreadsheet formulas (CSV injection): prefix them with an apostrophe."""
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


class _Echo:
    def write(self, value):
        return value


def export_rows(queryset):
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    rows = with_bounced(queryset.order_by("pk")).values_list(
        "email",
        "protocol__name",
        "status",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
        "consented_at",
        "last_position_sent",
        "last_step_sent_at",
        "next_step_due_at",
        "paused_at",
        "completed_at",
        "is_bounced",
    )
    # iterator(): rows stream from a server-side cursor in chunks, never all in memory.
    for row in rows.iterator(chunk_size=2000):
        yield writer.writerow([csv_safe(cell) for cell in row])


class ProgressFilter(admin.SimpleListFilter):
    title = "program"
    parameter_name = "program"

    def lookups(self, request, model_admin):
        return [("active", "In progress"), ("paused", "Paused"), ("completed", "Completed"), ("bounced", "Bounced")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "active":
            # A bounced address receives nothing until staff lift it: not "in progress".
            return with_bounced(queryset).filter(
                status=Signup.Status.CONFIRMED,
                program_started_at__isnull=False,
                paused_at__isnull=True,
                completed_at__isnull=True,
                is_bounced=False,
            )
        if value == "paused":
            return queryset.filter(paused_at__isnull=False)
        if value == "completed":
            return queryset.filter(completed_at__isnull=False)
        if value == "bounced":
            return with_bounced(queryset).filter(is_bounced=True)
        return queryset


@admin.register(Signup)
class SignupAdmin(admin.ModelAdmin):
    list_display = ["email", "protocol", "status", "created_at", "confirmed_at", "progress"]
    list_filter = ["protocol", "status", ProgressFilter, "created_at", "confirmed_at"]
    list_select_related = ["protocol"]
    search_fields = ["email"]
    date_hierarchy = "created_at"
    actions = ["export_csv", "resend_confirmation"]
    readonly_fields = [
        "protocol",
        "email",
        "status",
        "consent_text",
        "consented_at",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
        "confirmation_sent_at",
        "time_zone",
        "program_started_at",
        "last_position_sent",
        "last_step_sent_at",
        "next_step_due_at",
        "paused_at",
        "completed_at",
    ]

    def get_queryset(self, request):
        return with_bounced(super().get_queryset(request))

    @admin.display(description="Program")
    def progress(self, obj):
        if obj.is_bounced:
            state = "bounced"
        elif obj.completed_at:
            state = "completed"
        elif obj.paused_at:
            state = "paused"
        elif obj.next_step_due_at:
            state = f"next due {timezone.localtime(obj.next_step_due_at):%Y-%m-%d %H:%M}"
        elif obj.program_started_at and obj.status == Signup.Status.CONFIRMED:
            state = "step on its way"
        else:
            return "–"
        return f"step {obj.last_position_sent} sent; {state}" if obj.last_position_sent else state

    def has_add_permission(self, request):
        # Signups come with the subscriber's own consent, through the public form only.
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(request, AuditEvent.Action.CHANGE, rows=1, details=f"{obj.email}: {', '.join(form.changed_data)}")

    def delete_model(self, request, obj):
        audit.record(request, AuditEvent.Action.DELETE, rows=1, details=obj.email)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        emails = list(queryset.values_list("email", flat=True))
        audit.record(request, AuditEvent.Action.DELETE, rows=len(emails), details=", ".join(emails))
        super().delete_queryset(request, queryset)

    def has_export_permission(self, request):
        return request.user.has_perm("protocols.export_signups")

    @admin.action(description="Export selected as CSV", permissions=["export"])
    def export_csv(self, request, queryset):
        audit.record(request, AuditEvent.Action.EXPORT, rows=queryset.count(), details=_described(request))
        response = StreamingHttpResponse(export_rows(queryset), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="signups-{stamp}.csv"'
        return response

    @admin.action(description="Resend confirmation", permissions=["change"])
    def resend_confirmation(self, request, queryset):
        sent = sum(
            services.resend_confirmation(signup=signup, force=True)
            for signup in queryset.filter(status=Signup.Status.PENDING)
        )
        skipped = queryset.count() - sent
        audit.record(request, AuditEvent.Action.RESEND, rows=sent, details=_described(request))
        self.message_user(request, f"Confirmation queued for {sent} pending signup(s).", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} signup(s) skipped: only pending signups get a confirmation.", messages.WARNING
            )
