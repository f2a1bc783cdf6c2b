from django.core.management.base import BaseCommand

from articles.images.services import needs_files, queue_image_files, update_image_files
from articles.models import Image


class Command(BaseCommand):
    help = (
        "Queue (or, with --now, make here) the renditions and social crops that are missing or stale: "
        "after a failed task, a restore, or a move of the media files to other storage (--all)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--now", action="store_true", help="make them in this process instead of the worker")
        parser.add_argument("--all", dest="every", action="store_true", help="every image, complete or not")

    def handle(self, *args, now, every, **options):
        count = 0
        for image in Image.objects.order_by("pk").iterator():
            if not every and not needs_files(image):
                continue
            if every:
                Image.objects.filter(pk=image.pk).update(renditions=[], renditions_of="", social_name="")
            if now:
                update_image_files(image_id=image.pk)
            else:
                queue_image_files(image)
            count += 1
        done = "made" if now else "queued for the worker"
        self.stdout.write(f"{count} image(s) {done}.")
