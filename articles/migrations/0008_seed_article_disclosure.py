"""The seed article recommends "Magnesium Balance", a product the publisher sells: mark it,
so databases seeded before the disclosure existed show it too."""

from django.db import migrations

SEED_SLUG = "magnesium-and-leg-cramps"


def mark(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    Article.objects.filter(slug=SEED_SLUG).update(mentions_publisher_products=True)


class Migration(migrations.Migration):
    dependencies = [("articles", "0007_reviews_from_free_text")]

    operations = [migrations.RunPython(mark, migrations.RunPython.noop)]
