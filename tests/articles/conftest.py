from unittest import mock

import pytest
from django_tasks_db.management.commands.db_worker import Worker


@pytest.fixture
def media_root(settings, tmp_path):
    """An empty media directory for this test (files on local disk, as in the embedded setup)."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root


def stored_files(root):
    """Every file under the media root, as relative paths."""
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def run_image_worker():
    """Run every queued task the way `manage.py db_worker --batch --no-startup-delay` does, in this
    process (the test database is in memory); returns the worker's tasks' results."""
    from django_tasks_db.models import DBTaskResult

    # The worker closes "old" connections between tasks; inside a test's transaction that
    # would close the test's own connection (PostgreSQL), so it is a no-op here.
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None):
        Worker(
            queue_names=["default"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="test-image-worker",
            excluded_queue_names=[],
        ).run()
    return list(DBTaskResult.objects.order_by("enqueued_at").values_list("status", flat=True))
