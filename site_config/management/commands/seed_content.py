from django.core.management.base import BaseCommand

from articles.seed import seed_articles
from protocols.seed import seed_protocols


class Command(BaseCommand):
    help = "Load the site's seed content. Idempotent: creates what is missing, never overwrites edits."

    def handle(self, *args, **options):
        seed_articles(stdout=self.stdout)
        seed_protocols(stdout=self.stdout)
