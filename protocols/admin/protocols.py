from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from ..charts import bar_chart, funnel, funnel_chart, signups_per_day
from ..emails import build_step_email
from ..models import Protocol, Signup, Step
from ..tasks import reschedule_protocol_steps


class StepFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        positions = {}
        for form in self.forms:
            if not getattr(form, "cleaned_data", None) or form.cleaned_data.get("DELETE"):
                continue
            position = form.cleaned_data.get("position")
            if position in positions:
                raise ValidationError(f"Two steps have position {position}: give each step its own number.")
            positions[position] = form


class StepInline(admin.StackedInline):
    model = Step
    formset = StepFormSet
    extra = 0
    ordering = ["position", "pk"]
    fields = ["position", "subject", "delay_days", "body", "preview_links"]
    readonly_fields = ["preview_links"]

    @admin.display(description="Preview")
    def preview_links(self, obj):
        if not obj.pk:
            return "Save to preview this step."
        preview = "admin:protocols_protocol_step_preview"
        return format_html(
            '<a href="{}">HTML</a> · <a href="{}">plain text</a> · <a href="{}">send a test to me</a>',
            reverse(preview, args=[obj.protocol_id, obj.pk, "html"]),
            reverse(preview, args=[obj.protocol_id, obj.pk, "text"]),
            reverse("admin:protocols_protocol_step_test", args=[obj.protocol_id, obj.pk]),
        )


def sample_signup(protocol, email):
    """An unsaved signup standing in for a subscriber in previews and test sends."""
    return Signup(pk=0, protocol=protocol, email=email or "reader@example.org", status=Signup.Status.CONFIRMED)


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
    inlines = [StepInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "tagline", "description", "status", "launched_at", "announce"]}),
        ("Signup", {"fields": ["consent_text"]}),
        (
            "Program delivery",
            {
                "fields": ["send_hour", "time_zone"],
                "description": (
                    "The steps below are the program's emails, sent in position order. A step with a delay of "
                    "0 days follows the previous one at once; one with a delay of N days goes out at the send "
                    "hour, N days after the previous one, in each subscriber's time zone."
                ),
            },
        ),
        ("Dates", {"fields": ["created_at", "updated_at"]}),
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
            extra_context["funnel"] = funnel_chart(funnel(protocol))
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        protocol_id = form.instance.pk
        # Subscribers waiting for a step (or done with the program) are planned again
        # against the edited steps, by the worker.
        transaction.on_commit(lambda: reschedule_protocol_steps.enqueue(protocol_id), robust=True)

    # --- Step previews and test sends -----------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:protocol_id>/steps/<int:step_id>/preview/<str:part>/",
                view(self.step_preview_view),
                name="protocols_protocol_step_preview",
            ),
            path(
                "<int:protocol_id>/steps/<int:step_id>/send-test/",
                view(self.step_test_view),
                name="protocols_protocol_step_test",
            ),
            *super().get_urls(),
        ]

    def _step(self, request, protocol_id, step_id):
        step = get_object_or_404(Step.objects.select_related("protocol"), pk=step_id, protocol_id=protocol_id)
        if not self.has_view_permission(request, step.protocol):
            raise PermissionDenied
        return step

    def step_preview_view(self, request, protocol_id, step_id, part):
        """The step exactly as the email's HTML or plain-text part (links point at a sample subscriber)."""
        step = self._step(request, protocol_id, step_id)
        message = build_step_email(sample_signup(step.protocol, request.user.email), step)
        if part == "text":
            response = HttpResponse(f"Subject: {message.subject}\n\n{message.body}", content_type="text/plain")
        elif part == "html":
            response = HttpResponse(message.alternatives[0][0], content_type="text/html")
            # The email's own inline styles, for this staff-only page alone.
            response._csp_update = {"style-src": ["'unsafe-inline'"]}
        else:
            raise Http404("A step preview is “html” or “text”.")
        response["X-Robots-Tag"] = "noindex"
        return response

    def step_test_view(self, request, protocol_id, step_id):
        """GET asks; POST sends the step to the signed-in staff member's own address."""
        step = self._step(request, protocol_id, step_id)
        change_url = reverse("admin:protocols_protocol_change", args=[protocol_id])
        if request.method == "POST":
            if not request.user.email:
                self.message_user(request, "Your account has no email address: add one first.", messages.ERROR)
                return redirect(change_url)
            message = build_step_email(sample_signup(step.protocol, request.user.email), step)
            message.subject = f"[Test] {message.subject}"
            try:
                message.connection = get_connection(fail_silently=False)
                message.send(fail_silently=False)
            except Exception as exc:  # the mail server's answer, shown to staff as it is
                self.message_user(request, f"The test could not be sent: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"Test of “{step.subject}” sent to {request.user.email}.", messages.SUCCESS)
            return redirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": "Send a test email",
            "step": step,
            "protocol": step.protocol,
            "opts": self.model._meta,
            "change_url": change_url,
            "to_email": request.user.email,
        }
        return TemplateResponse(request, "admin/protocols/protocol/step_test.html", context)
