"""The image library in the admin: thumbnails, search, filters, the focal point, safe deletes."""

from functools import partial

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from articles.models import Image

from .forms import ImageAdminForm
from .pictures import thumbnail_url
from .services import delete_image_files, needs_files, queue_image_files


class InUseFilter(admin.SimpleListFilter):
    title = "use"
    parameter_name = "in_use"

    def lookups(self, request, model_admin):
        return [("hero", "Hero of an article"), ("unused", "Not a hero image")]

    def queryset(self, request, queryset):
        if self.value() == "hero":
            return queryset.filter(hero_articles__isnull=False).distinct()
        if self.value() == "unused":
            return queryset.filter(hero_articles__isnull=True)
        return queryset


class RenditionsFilter(admin.SimpleListFilter):
    title = "renditions"
    parameter_name = "renditions"

    def lookups(self, request, model_admin):
        return [("waiting", "Waiting for the worker"), ("ready", "Ready")]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(Q(renditions=[]) | Q(social_name=""))
        if self.value() == "ready":
            return queryset.exclude(renditions=[]).exclude(social_name="")
        return queryset


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    form = ImageAdminForm
    list_display = ["thumbnail", "alt_text", "credit", "dimensions", "uploaded_by", "uploaded_at", "renditions_state"]
    list_display_links = ["thumbnail", "alt_text"]
    list_filter = [InUseFilter, RenditionsFilter, "uploaded_at", "uploaded_by"]
    list_select_related = ["uploaded_by"]
    search_fields = ["alt_text", "caption", "credit"]
    date_hierarchy = "uploaded_at"
    readonly_fields = ["focal_preview", "dimensions", "uploaded_by", "uploaded_at", "used_by"]
    fieldsets = [
        (None, {"fields": ["file", "alt_text", "caption", "credit"]}),
        (
            "Focal point",
            {
                "fields": ["focal_preview", "focal_x", "focal_y"],
                "description": "Click the picture on the point that must stay in view when it is cropped "
                "(the picture of shared links is 1200 x 630). Without JavaScript, type the position: "
                "0 is the left or top edge, 1 the right or bottom.",
            },
        ),
        ("About the file", {"fields": ["dimensions", "uploaded_by", "uploaded_at", "used_by"]}),
    ]

    class Media:
        js = ["articles/images/focal-point.js"]
        css = {"all": ["articles/images/admin.css"]}

    @admin.display(description="image")
    def thumbnail(self, obj):
        return format_html(
            '<img src="{}" alt="" width="96" class="image-thumbnail" loading="lazy">', thumbnail_url(obj)
        )

    @admin.display(description="size")
    def dimensions(self, obj):
        return f"{obj.width} x {obj.height} px" if obj.width else "—"

    @admin.display(description="renditions", boolean=True)
    def renditions_state(self, obj):
        return not needs_files(obj)

    @admin.display(description="preview")
    def focal_preview(self, obj):
        if not obj.pk or not obj.file:
            return "Save the image first; then set its focal point here."
        return format_html(
            '<div class="focal-picker" data-focal-x="{}" data-focal-y="{}">'
            '<img src="{}" alt="{}" width="{}" height="{}"><span class="focal-marker" hidden></span></div>',
            obj.focal_x,
            obj.focal_y,
            thumbnail_url(obj, width=800),
            obj.alt_text,
            obj.width,
            obj.height,
        )

    @admin.display(description="used by")
    def used_by(self, obj):
        if not obj.pk:
            return "—"
        articles = Image.objects.used_by_articles(obj)
        if not articles:
            return "No article"
        return format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            ((reverse("admin:articles_article_change", args=[a.pk]), a.title) for a in articles),
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.uploaded_by = request.user
        super().save_model(request, obj, form, change)
        if form.replaced_files:
            transaction.on_commit(partial(delete_image_files, list(form.replaced_files)))
        if "file" in form.changed_data or needs_files(obj):
            queue_image_files(obj)

    # --- An image in use is never deleted -------------------------------------------------

    def delete_view(self, request, object_id, extra_context=None):
        image = self.get_object(request, object_id)
        if image is not None:
            users = list(Image.objects.used_by_articles(image))
            if users:
                self.message_user(request, in_use_message(image, users), messages.ERROR)
                return HttpResponseRedirect(reverse("admin:articles_image_change", args=[image.pk]))
        return super().delete_view(request, object_id, extra_context)

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Body images are not foreign keys: the bulk action must also see them as "in use".
        for image in objs:
            for article in Image.objects.used_by_articles(image).exclude(hero_image=image):
                protected.append(f"Article: {article.title} (shows image {image.pk} in its body)")
        return deleted, model_count, perms_needed, protected


def in_use_message(image, articles):
    titles = ", ".join(f"“{article.title}”" for article in articles)
    return (
        f"The image “{image}” was not deleted: it is used by {len(articles)} article(s): {titles}. "
        "Remove it from them first."
    )
