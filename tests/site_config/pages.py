"""Every public page of the site, rendered for real through the Django test client.

Shared by the Open Graph tests and the Nu Html Checker test: one place lists the pages.
"""

from django.test import Client
from django.utils import timezone

from protocols.emails import build_confirmation_email
from protocols.models import Signup
from protocols.seed import seed_protocols
from protocols.tokens import make_confirm_token, make_manage_token, make_unsubscribe_token
from site_config.views import render_error_page
from tests.articles.factories import make_article, make_author, make_review, make_reviewer


def make_content():
    """A published article with an author, a medical review, a product disclosure, cited
    references, tags, a hero image and an image in its body (renditions made); the seeded
    protocol; a signup."""
    from articles.images.services import update_image_files
    from tests.articles.image_files import jpeg_bytes, make_image

    hero = make_image(jpeg_bytes(1000, 600), caption="Night cramps strike the calf <b>muscle</b> & more.")
    update_image_files(image_id=hero.pk)
    article = make_article(
        title="Magnesium and leg cramps",
        slug="magnesium-and-leg-cramps",
        summary="What the trials say about magnesium for night cramps.",
        body=f'Intro.\n\n![An "override" <alt>](image:{hero.pk})\n\n## What the trials say\n\nText.[^1]\n\n'
        "## Safety\n\nMore text.\n",
        hero_image=hero,
        author=make_author(name="Dana Reyes", slug="dana-reyes"),
        mentions_publisher_products=True,
        tags=["magnesium", "leg cramps"],
        references=[("A trial", "https://example.org/trial")],
    )
    make_review(article, reviewer=make_reviewer(name="Dr. Sam Lee", slug="sam-lee", credentials="MD"))
    make_article(title="Vitamin D basics", tags=["vitamin d"])
    protocol = seed_protocols()
    signup = Signup.objects.create(
        protocol=protocol, email="reader@example.org", consent_text=protocol.consent_text, consented_at=timezone.now()
    )
    return article, protocol, signup


def public_pages(content=None):
    """(name, url, status, html) of every public page, with `make_content()` in the database."""
    article, protocol, signup = content or make_content()
    client = Client()
    tag = article.tag_list[0]
    gets = {
        "home": "/",
        "article list": "/articles/",
        "article": article.get_absolute_url(),
        "author page": article.author.get_absolute_url(),
        "reviewer page": article.last_review.reviewer.get_absolute_url(),
        "tag list": "/tags/",
        "tag page": f"/tags/{tag.slug}/",
        "search form": "/search/",
        "search with results": "/search/?q=magnesium",
        "search without results": "/search/?q=zzyzzx",
        "protocol list": "/protocols/",
        "protocol page": protocol.get_absolute_url(),
        "thanks": f"/protocols/{protocol.slug}/thanks/",
        "confirm": f"/protocols/confirm/{make_confirm_token(signup)}/",
        "link invalid": "/protocols/confirm/not-a-token/",
        "unsubscribe": f"/protocols/unsubscribe/{make_unsubscribe_token(signup)}/",
        "404": "/no-such-page/",
    }
    pages = []
    for name, url in gets.items():
        response = client.get(url)
        pages.append((name, url, response.status_code, response.content.decode()))
    response = client.post(f"/protocols/confirm/{make_confirm_token(signup)}/")
    pages.append(("confirmed", "POST confirm", response.status_code, response.content.decode()))
    manage = f"/protocols/manage/{make_manage_token(signup)}/"
    response = client.get(manage)
    pages.append(("subscriber page", manage, response.status_code, response.content.decode()))
    response = client.post(f"/protocols/unsubscribe/{make_unsubscribe_token(signup)}/")
    pages.append(("unsubscribed", "POST unsubscribe", response.status_code, response.content.decode()))
    response = client.post(manage, {"action": "erase", "confirm": "on"})
    pages.append(("erased", "POST erase", response.status_code, response.content.decode()))
    return pages


def error_pages():
    """(name, html) of the static error pages, rendered as the server renders them."""
    return [(name, render_error_page(f"{name}.html")) for name in ("500", "503")]


def confirmation_email_html(signup):
    """The HTML part of the confirmation email for a signup."""
    message = build_confirmation_email(signup)
    (html, mimetype) = message.alternatives[0]
    assert mimetype == "text/html"
    return html


def program_email_html(protocol):
    """The HTML part of a program step's email, for a sample subscriber."""
    from protocols.admin.protocols import sample_signup
    from protocols.emails import build_step_email
    from protocols.models import Step

    step = Step.objects.create(
        protocol=protocol, position=99, subject="A step", body="## Habit\n\nRead [this](/articles/).\n"
    )
    (html, mimetype) = build_step_email(sample_signup(protocol, "reader@example.org"), step).alternatives[0]
    assert mimetype == "text/html"
    return html
