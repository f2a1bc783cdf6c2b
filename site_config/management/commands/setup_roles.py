from importlib import import_module

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


def declared_roles():
    """Merge the ROLES dict of every installed app's `roles` module (group name -> permissions)."""
    roles = {}
    for app in apps.get_app_configs():
        try:
            module = import_module(f"{app.name}.roles")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app.name}.roles":
                raise
            continue
        for group, permissions in getattr(module, "ROLES", {}).items():
            roles.setdefault(group, set()).update(permissions)
    return roles


class Command(BaseCommand):
    help = (
        "Create or update the staff groups declared in each app's roles.py (e.g. Editors). "
        "Idempotent: each group ends with exactly its declared permissions."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        for name, codes in sorted(declared_roles().items()):
            permissions = []
            for code in sorted(codes):
                app_label, _, codename = code.partition(".")
                try:
                    permissions.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
                except Permission.DoesNotExist:
                    raise CommandError(
                        f"Unknown permission {code!r} for group {name!r} (run migrate first)."
                    ) from None
            group, created = Group.objects.get_or_create(name=name)
            group.permissions.set(permissions)
            verb = "created" if created else "updated"
            self.stdout.write(f"Group “{name}” {verb} with {len(permissions)} permissions.")
