import csv

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import StreamingHttpResponse
from django.utils import timezone

from . import services
from .charts import bar_chart, signups_per_day
from .models import EmailDelivery, Protocol, Signup


@admin.register(Protocol)
class ProtocolAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "status",
        "announce",
        "launched_at",
        "pending_count",
        "confirmed_count",
        "unsubscribed_count",
    ]
    list_filter = ["status", "announce"]
    search_fields = ["name", "tagline"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "updated_at"]
    fields = [
        "name",
        "slug",
        "tagline",
        "description",
        "status",
        "launched_at",
        "announce",
        "consent_text",
        "created_at",
        "updated_at",
    ]

    def get_queryset(self, request):
        # One query for the whole list: the counts are aggregated, not fetched per row.
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_pending=Count("signups", filter=Q(signups__status=Signup.Status.PENDING)),
                n_confirmed=Count("signups", filter=Q(signups__status=Signup.Status.CONFIRMED)),
                n_unsubscribed=Count("signups", filter=Q(signups__status=Signup.Status.UNSUBSCRIBED)),
            )
        )

    @admin.display(description="Pending", ordering="n_pending")
    def pending_count(self, obj):
        return obj.n_pending

    @admin.display(description="Confirmed", ordering="n_confirmed")
    def confirmed_count(self, obj):
        return obj.n_confirmed

    @admin.display(description="Unsubscribed", ordering="n_unsubscribed")
    def unsubscribed_count(self, obj):
        return obj.n_unsubscribed

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        protocol = self.get_object(request, object_id)
        if protocol is not None:
            extra_context["signup_chart"] = bar_chart(signups_per_day(protocol))
        return super().change_view(request, object_id, form_url, extra_context=extra_context)


# --- CSV export ---------------------------------------------------------------------------

CSV_COLUMNS = ["email", "protocol", "status", "created_at", "confirmed_at", "unsubscribed_at", "consented_at"]
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
    rows = queryset.order_by("pk").values_list(
        "email", "protocol__name", "status", "created_at", "confirmed_at", "unsubscribed_at", "consented_at"
    )
    # iterator(): rows stream from a server-side cursor in chunks, never all in memory.
    for row in rows.iterator(chunk_size=2000):
        yield writer.writerow([csv_safe(cell) for cell in row])


@admin.register(Signup)
class SignupAdmin(admin.ModelAdmin):
    list_display = ["email", "protocol", "status", "created_at", "confirmed_at", "unsubscribed_at"]
    list_filter = ["protocol", "status", "created_at", "confirmed_at"]
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
    ]

    def has_add_permission(self, request):
        # Signups come with the subscriber's own consent, through the public form only.
        return False

    def has_export_permission(self, request):
        return request.user.has_perm("protocols.export_signups")

    @admin.action(description="Export selected as CSV", permissions=["export"])
    def export_csv(self, request, queryset):
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
        self.message_user(request, f"Confirmation queued for {sent} pending signup(s).", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} signup(s) skipped: only pending signups get a confirmation.", messages.WARNING
            )


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
    list_display = ["to_email", "kind", "state", "attempts", "next_attempt_at", "sent_at", "short_error"]
    list_filter = [DeliveryStateFilter, "kind"]
    list_select_related = ["signup"]
    search_fields = ["to_email"]
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

    @admin.display(description="Last error")
    def short_error(self, obj):
        return obj.last_error[:120]

    @admin.action(description="Retry delivery now", permissions=["change"])
    def retry_now(self, request, queryset):
        count = sum(services.retry_delivery_now(delivery=delivery) for delivery in queryset)
        self.message_user(request, f"{count} email(s) queued again.", messages.SUCCESS)
