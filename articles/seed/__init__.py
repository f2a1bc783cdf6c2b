"""Seed articles shipped with the project: Markdown files with a small front matter.

Each file in this folder is one article. It is created once, by slug, and never touched again,
so editors' later changes survive every `seed_content` run.
"""

from pathlib import Path

from django.db import transaction

from articles.models import Article

SEED_DIR = Path(__file__).resolve().parent


def parse_seed_file(path):
    """Split `---` front matter (`key: value` lines) from the Markdown body."""
    text = Path(path).read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    meta = {}
    for line in front.splitlines():
        if line.strip():
            key, _, value = line.partition(":")
            meta[key.strip()] = value.strip()
    meta["tags"] = [name.strip() for name in meta.get("tags", "").split(",") if name.strip()]
    meta["body"] = body.strip() + "\n"
    return meta


def seed_articles(*, stdout=None):
    """Create each seed article that was never created (by slug); return how many were created.

    "Never" counts the article's version history too: an article an editor has since
    given another slug, or deleted, is not created again.
    """
    created = 0
    for path in sorted(SEED_DIR.glob("*.md")):
        data = parse_seed_file(path)
        with transaction.atomic():
            if (
                Article.history.filter(slug=data["slug"]).exists()
                or Article.objects.filter(slug=data["slug"]).exists()
            ):
                if stdout:
                    stdout.write(f"Article “{data['title']}” was seeded before: left as editors made it.")
                continue
            article = Article.objects.create(
                title=data["title"],
                slug=data["slug"],
                summary=data["summary"],
                body=data["body"],
                status=Article.Status.PUBLISHED,
                # It recommends a product the publisher sells: readers see the disclosure.
                mentions_publisher_products=data.get("mentions_publisher_products", "").lower() in {"yes", "true"},
            )
            article.tags.set(data["tags"])
        created += 1
        if stdout:
            stdout.write(f"Article “{article.title}” created and published.")
    return created
