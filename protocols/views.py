"""Protocol pages and the signup flow. Views validate input and call services."""

import json

from django.core import signing
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from site_config import page_cache
from site_config.page_cache import cache_public_page

from . import services
from .forms import EraseForm, SignupForm, TimeZoneForm
from .models import Protocol, Signup
from .progress import progress_of
from .ratelimit import signup_limit
from .same_origin import same_origin_posts
from .tokens import (
    LinkExpired,
    email_digest,
    make_manage_token,
    read_confirm_token,
    read_manage_token,
    read_unsubscribe_token,
)


@cache_public_page
def protocol_list(request):
    protocols = list(Protocol.objects.order_by("status", "-launched_at", "name"))
    return render(
        request,
        "protocols/protocol_list.html",
        {
            "listed": [p for p in protocols if p.accepts_signups],
            "closed": [p for p in protocols if not p.accepts_signups],
        },
    )


# The signup form carries no CSRF token, so the page is the same for every reader and the
# page cache shares it. Cross-origin posts are refused from the Origin / Sec-Fetch-Site
# headers instead; the honeypot, the rate limit and double opt-in do the rest
# (docs/decisions/page-cache.md).
@cache_public_page
@same_origin_posts
@require_http_methods(["GET", "HEAD", "POST"])
def protocol_detail(request, slug):
    if request.method != "POST":
        return _protocol_page(request, slug)
    protocol = get_object_or_404(Protocol, slug=slug)
    form = None
    status = 200
    if protocol.accepts_signups:
        form = SignupForm(request.POST or None, consent_text=protocol.consent_text)
        if request.method == "POST" and form.is_valid():
            verdict = signup_limit(request)
            if verdict is not None and not verdict.allowed:
                return _rate_limited(request, verdict)
            services.create_signup(protocol=protocol, email=form.cleaned_data["email"])
            return redirect("protocols:thanks", slug=protocol.slug)
        if form.is_bound:
            status = 400
    elif request.method == "POST":
        status = 409  # closed: the post is refused, the page explains why
    return render(request, "protocols/protocol_detail.html", {"protocol": protocol, "form": form}, status=status)


def _protocol_page(request, slug):
    """The page as every reader gets it. Whether the address names a protocol is remembered
    under the content version; the protocol and its form are read when the template first
    reads them, so a page from the fragment cache (templates/base.html) reads neither: that
    query was a third of such a page's CPU under gunicorn (docs/performance.md)."""
    protocol = page_cache.remembered_object(
        request, "protocol-page", [slug], lambda: get_object_or_404(Protocol, slug=slug)
    )
    form = SimpleLazyObject(lambda: SignupForm(consent_text=protocol.consent_text))
    return render(request, "protocols/protocol_detail.html", {"protocol": protocol, "form": form})


def _rate_limited(request, verdict):
    response = render(
        request,
        "protocols/rate_limited.html",
        {"retry_at": verdict.retry_at, "retry_minutes": -(-verdict.retry_after_seconds // 60)},
        status=429,
    )
    response["Retry-After"] = str(verdict.retry_after_seconds)
    return response


@cache_public_page
def thanks(request, slug):
    protocol = get_object_or_404(Protocol, slug=slug)
    return render(request, "protocols/thanks.html", {"protocol": protocol})


def _signup_from(signup_id, digest):
    signup = Signup.objects.select_related("protocol").filter(pk=signup_id).first()
    if signup is None or email_digest(signup.email) != digest:
        return None
    return signup


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, token):
    """GET shows a button; only the POST confirms, so link-prefetching scanners confirm nobody."""
    try:
        signup = _signup_from(*read_confirm_token(token))
    except LinkExpired as expired:
        return _link_invalid(request, token=token, signup=Signup.objects.filter(pk=expired.signup_id).first())
    except signing.BadSignature:
        signup = None
    if signup is None or signup.status == Signup.Status.UNSUBSCRIBED:
        return _link_invalid(request, signup=signup)
    if request.method == "POST":
        signup = services.confirm_signup(signup=signup)
    if signup.status == Signup.Status.CONFIRMED:
        context = {"signup": signup, "protocol": signup.protocol, "manage_token": make_manage_token(signup)}
        return render(request, "protocols/confirmed.html", context)
    return render(request, "protocols/confirm.html", {"signup": signup, "protocol": signup.protocol})


def _link_invalid(request, *, signup=None, token=None):
    context = {
        "signup": signup if token else None,
        "token": token,
        "protocols": Protocol.objects.listed(),
    }
    return render(request, "protocols/link_invalid.html", context, status=400 if token is None else 410)


@never_cache
@require_http_methods(["POST"])
def resend(request, token):
    """From an expired link's page: email a fresh link (rate-limited like signups)."""
    try:
        signup = _signup_from(*read_confirm_token(token))
    except LinkExpired as expired:
        signup = Signup.objects.select_related("protocol").filter(pk=expired.signup_id).first()
    except signing.BadSignature:
        signup = None
    if signup is None:
        return _link_invalid(request)
    verdict = signup_limit(request)
    if verdict is not None and not verdict.allowed:
        return _rate_limited(request, verdict)
    services.resend_confirmation(signup=signup)
    return redirect("protocols:thanks", slug=signup.protocol.slug)


# RFC 8058: mail clients POST "List-Unsubscribe=One-Click" to this URL without any
# cookie or CSRF token. The signed token in the URL is the authorisation.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    try:
        signup = _signup_from(*read_unsubscribe_token(token))
    except signing.BadSignature:
        signup = None
    if signup is None:
        return _link_invalid(request)
    if request.method == "POST":
        signup = services.unsubscribe(signup=signup)
        return render(request, "protocols/unsubscribed.html", {"signup": signup, "protocol": signup.protocol})
    return render(request, "protocols/unsubscribe.html", {"signup": signup, "protocol": signup.protocol})


# --- The subscriber's own page -------------------------------------------------------------

MANAGE_DONE = {
    "paused": "Paused: no more emails until you resume.",
    "resumed": "Resumed: the next email follows the usual spacing.",
    "time_zone": "Time zone saved: emails go out at the protocol's hour in this zone.",
    "unsubscribed": "Unsubscribed: you will get no more emails about this protocol.",
}


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def manage(request, token):
    """The signed link in every program email: progress and the subscriber's controls (POST only)."""
    try:
        signup = _signup_from(*read_manage_token(token))
    except signing.BadSignature:
        signup = None
    if signup is None:
        return _link_invalid(request)
    time_zone_form = TimeZoneForm(initial={"time_zone": signup.time_zone}, protocol=signup.protocol)
    erase_form = EraseForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "export":
            return _export(signup)
        if action == "erase":
            erase_form = EraseForm(request.POST)
            if erase_form.is_valid():
                services.erase_data(signup=signup)
                return render(request, "protocols/erased.html", {"protocol": signup.protocol})
            status = 400
        elif action == "time_zone":
            time_zone_form = TimeZoneForm(request.POST, protocol=signup.protocol)
            if time_zone_form.is_valid():
                services.set_time_zone(signup=signup, time_zone=time_zone_form.cleaned_data["time_zone"])
                return _back_to_manage(token, "time_zone")
            status = 400
        elif action in {"pause", "resume", "unsubscribe"}:
            getattr(services, action)(signup=signup)
            return _back_to_manage(token, {"pause": "paused", "resume": "resumed"}.get(action, "unsubscribed"))
        else:
            status = 400
    context = {
        "signup": signup,
        "protocol": signup.protocol,
        "progress": progress_of(signup),
        "bounced": services.is_bounced(signup.email),
        "done": MANAGE_DONE.get(request.GET.get("done", "")) if request.method != "POST" else None,
        "time_zone_form": time_zone_form,
        "erase_form": erase_form,
        "bad_action": status == 400 and not (time_zone_form.errors or erase_form.errors),
    }
    return render(request, "protocols/manage.html", context, status=status)


def _back_to_manage(token, done):
    return redirect(f"{reverse('protocols:manage', kwargs={'token': token})}?done={done}")


def _export(signup):
    response = HttpResponse(
        json.dumps(services.export_data(signup), indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{signup.protocol.slug}-my-data.json"'
    return response
