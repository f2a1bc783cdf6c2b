"""The medical review side of the admin: reviewers, reviews on the article form, the review
queue (assign in bulk, record a review), reminders and the editorial settings."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from .models import Article, EditorialSettings, Review, Reviewer, ReviewReminder
from .review_cycle import assign_reviewer, record_review, review_queue

QUEUE_GROUPS = [
    ("overdue", "Overdue"),
    ("due_soon", "Due in the next 30 days"),
    ("never_reviewed", "Never reviewed"),
]


class ReviewInline(admin.TabularInline):
    model = Review
    extra = 0
    fields = ["reviewer", "reviewed_on", "outcome", "notes"]
    autocomplete_fields = ["reviewer"]
    verbose_name_plural = "Medical reviews (the latest approved one is shown on the page)"


class AssignReviewerForm(forms.Form):
    reviewer = forms.ModelChoiceField(
        Reviewer.objects.all(), required=False, empty_label="— nobody —", label="Assign to"
    )
    articles = forms.ModelMultipleChoiceField(Article.objects.all())


class RecordReviewForm(forms.ModelForm):
    class Meta:
        model = Review
        fields = ["reviewer", "reviewed_on", "outcome", "notes"]
        widgets = {"reviewed_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].required = True


class ReviewQueueAdminMixin:
    """Adds the review queue and "record a review" pages to the article admin."""

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        urls = [
            path("review-queue/", self.admin_site.admin_view(self.review_queue_view), name=f"{prefix}_review_queue"),
            path(
                "<path:object_id>/record-review/",
                self.admin_site.admin_view(self.record_review_view),
                name=f"{prefix}_record_review",
            ),
        ]
        return urls + super().get_urls()

    def _context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.opts, **extra}

    def review_queue_view(self, request):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        can_change = self.has_change_permission(request)
        if request.method == "POST":
            if not can_change:
                raise PermissionDenied
            form = AssignReviewerForm(request.POST)
            if form.is_valid():
                reviewer = form.cleaned_data["reviewer"]
                count = assign_reviewer(articles=form.cleaned_data["articles"], reviewer=reviewer, user=request.user)
                who = reviewer.name if reviewer else "nobody"
                self.message_user(request, f"{count} article(s) assigned to {who}.", messages.SUCCESS)
            else:
                self.message_user(request, "Select at least one article to assign.", messages.WARNING)
            return HttpResponseRedirect(reverse("admin:articles_article_review_queue"))
        today = timezone.localdate()
        queue = review_queue(today=today)
        context = self._context(
            request,
            title="Review queue",
            today=today,
            groups=[(key, label, queue[key]) for key, label in QUEUE_GROUPS],
            reviewers=Reviewer.objects.all(),
            can_change=can_change,
        )
        return TemplateResponse(request, "admin/articles/article/review_queue.html", context)

    def record_review_view(self, request, object_id):
        article = self.get_object(request, object_id)
        if article is None:
            raise Http404
        if not self.has_change_permission(request, article):
            raise PermissionDenied
        initial = {"reviewer": article.assigned_reviewer_id, "reviewed_on": timezone.localdate()}
        form = RecordReviewForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                review = record_review(article=article, user=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.log_change(request, article, f"Review recorded: {review}.")
                self.message_user(request, f"Review recorded for “{article}”.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:articles_article_review_queue"))
        context = self._context(
            request, title=f"Record a review: {article}", original=article, form=form, media=form.media
        )
        return TemplateResponse(request, "admin/articles/article/record_review.html", context)


@admin.register(Reviewer)
class ReviewerAdmin(admin.ModelAdmin):
    list_display = ["name", "credentials", "email", "assigned_count"]
    search_fields = ["name", "credentials", "email"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["photo"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(assigned_count=Count("assigned_articles"))

    @admin.display(description="assigned articles", ordering="assigned_count")
    def assigned_count(self, obj):
        return obj.assigned_count


@admin.register(ReviewReminder)
class ReviewReminderAdmin(admin.ModelAdmin):
    """Read only: reminders are written by `send_review_reminders` and sent by the worker."""

    list_display = ["to_email", "reviewer", "created_at", "sent_at", "attempts", "skipped_reason", "gave_up_at"]
    list_filter = ["sent_at", "gave_up_at"]
    list_select_related = ["reviewer"]
    search_fields = ["to_email", "reviewer__name"]
    readonly_fields = [field.name for field in ReviewReminder._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EditorialSettings)
class EditorialSettingsAdmin(admin.ModelAdmin):
    """One row: the list goes straight to its form."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        settings = EditorialSettings.load()
        return HttpResponseRedirect(reverse("admin:articles_editorialsettings_change", args=[settings.pk]))

    def get_object(self, request, object_id, from_field=None):
        if str(object_id) != "1":
            return None
        return EditorialSettings.load()
