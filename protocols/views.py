"""Protocol pages and the signup flow. Views validate input and call services."""

from django.core import signing
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from site_config.page_cache import cache_public_page

from . import services
from .forms import SignupForm
from .models import Protocol, Signup
from .ratelimit import signup_limit
from .same_origin import same_origin_posts
from .tokens import LinkExpired, email_digest, read_confirm_token, read_unsubscribe_token


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
        return render(request, "protocols/confirmed.html", {"signup": signup, "protocol": signup.protocol})
    if signup.status == Signup.Status.CONFIRMED:
        return render(request, "protocols/confirmed.html", {"signup": signup, "protocol": signup.protocol})
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
