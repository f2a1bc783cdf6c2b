"""Build the emails: plain text and HTML, each with one-click unsubscribe (RFC 8058)."""

from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .tokens import make_confirm_token, make_unsubscribe_token


def absolute(path):
    return f"{settings.SITE_URL}{path}"


def message_id():
    """A Message-ID on the site's own domain (SITE_URL's host), not the sending machine's name."""
    return make_msgid(domain=urlsplit(settings.SITE_URL).hostname)


def unsubscribe_url(signup):
    return absolute(reverse("protocols:unsubscribe", kwargs={"token": make_unsubscribe_token(signup)}))


def confirm_url(signup):
    return absolute(reverse("protocols:confirm", kwargs={"token": make_confirm_token(signup)}))


def build_confirmation_email(signup, *, connection=None):
    protocol = signup.protocol
    context = {
        "signup": signup,
        "protocol": protocol,
        "site_name": settings.SITE_NAME,
        "confirm_url": confirm_url(signup),
        "unsubscribe_url": unsubscribe_url(signup),
        "protocol_url": absolute(protocol.get_absolute_url()),
        "waitlist": protocol.is_waitlist,
    }
    subject = render_to_string("protocols/emails/confirm_subject.txt", context).strip()
    text = render_to_string("protocols/emails/confirm.txt", context)
    html = render_to_string("protocols/emails/confirm.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        to=[signup.email],
        connection=connection,
        headers={
            "Message-ID": message_id(),
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    return message
