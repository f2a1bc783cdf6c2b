"""Build the emails: plain text and HTML, each with one-click unsubscribe (RFC 8058)."""

from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .rendering import absolute_url, step_body_text
from .tokens import make_confirm_token, make_manage_token, make_unsubscribe_token

absolute = absolute_url


def message_id():
    """A Message-ID on the site's own domain (SITE_URL's host), not the sending machine's name."""
    return make_msgid(domain=urlsplit(settings.SITE_URL).hostname)


def unsubscribe_url(signup):
    return absolute(reverse("protocols:unsubscribe", kwargs={"token": make_unsubscribe_token(signup)}))


def confirm_url(signup):
    return absolute(reverse("protocols:confirm", kwargs={"token": make_confirm_token(signup)}))


def manage_url(signup):
    return absolute(reverse("protocols:manage", kwargs={"token": make_manage_token(signup)}))


def list_id(protocol):
    """RFC 2919: "Sleep Protocol <sleep-protocol.example.com>"."""
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    name = protocol.name.replace('"', "").replace("<", "").replace(">", "")
    return f"{name} <{protocol.slug}.{host}>"


def _message(*, signup, subject, text, html, unsubscribe, connection, extra_headers=None):
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        to=[signup.email],
        connection=connection,
        headers={
            "Message-ID": message_id(),
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            **(extra_headers or {}),
        },
    )
    message.attach_alternative(html, "text/html")
    return message


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
    return _message(
        signup=signup,
        subject=render_to_string("protocols/emails/confirm_subject.txt", context).strip(),
        text=render_to_string("protocols/emails/confirm.txt", context),
        html=render_to_string("protocols/emails/confirm.html", context),
        unsubscribe=context["unsubscribe_url"],
        connection=connection,
    )


def step_context(signup, step):
    protocol = signup.protocol
    return {
        "signup": signup,
        "protocol": protocol,
        "step": step,
        "body_html": step.body_html,
        "body_text": step_body_text(step.body),
        "site_name": settings.SITE_NAME,
        "postal_address": settings.SITE_POSTAL_ADDRESS,
        "unsubscribe_url": unsubscribe_url(signup),
        "manage_url": manage_url(signup),
        "protocol_url": absolute(protocol.get_absolute_url()),
    }


def build_step_email(signup, step, *, connection=None):
    """One email of the program, as the subscriber receives it (also the staff preview)."""
    context = step_context(signup, step)
    return _message(
        signup=signup,
        subject=step.subject,
        text=render_to_string("protocols/emails/step.txt", context),
        html=render_to_string("protocols/emails/step.html", context),
        unsubscribe=context["unsubscribe_url"],
        connection=connection,
        extra_headers={"List-Id": list_id(signup.protocol)},
    )
