from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Load the site's seed content (idempotent). Content arrives with the articles and protocols features."

    def handle(self, *args, **options):
        self.stdout.write("Seed content: nothing to load yet.")
