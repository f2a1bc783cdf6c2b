"""Tags whose name has no letter or digit ("???") were stored with an empty slug, which no
URL can name (their links failed with a 500). Give each a generated slug, as new ones get."""

import secrets

from django.db import migrations


def give_slugs(apps, schema_editor):
    Tag = apps.get_model("taggit", "Tag")
    for tag in Tag.objects.filter(slug=""):
        tag.slug = f"tag-{secrets.token_hex(4)}"
        tag.save(update_fields=["slug"])


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0003_search_faster_lookups"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [migrations.RunPython(give_slugs, migrations.RunPython.noop)]
