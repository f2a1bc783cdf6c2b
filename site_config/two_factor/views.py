"""The second step of staff sign-in: enter a code (or use a passkey), or set up a first device."""

from base64 import b32encode
from functools import wraps

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import logout
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from . import has_device, is_staff_member, needs_second_factor, new_recovery_codes
from .forms import CodeForm

WRONG_CODE = (
    "That code is not right. Enter the 6-digit code your authenticator app shows now, or one of your recovery codes."
)
WRONG_SETUP_CODE = (
    "That code is not right. Check that your phone sets its clock automatically, then enter the code it shows now."
)


def throttled_message(seconds):
    unit = "second" if seconds == 1 else "seconds"
    return f"Too many wrong codes in a row: wait {seconds} {unit}, then enter a fresh code."


def staff_signed_in(view):
    """The password step comes first: anyone else goes to the admin's sign-in page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_staff_member(request.user):
            return redirect(f"{reverse('admin:login')}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return never_cache(sensitive_post_parameters("code")(require_http_methods(["GET", "POST"])(wrapper)))


def _next_url(request):
    url = request.POST.get("next") or request.GET.get("next")
    secure = request.is_secure()
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=secure):
        return url
    return reverse("admin:index")


def _page(request, template, **context):
    return render(
        request,
        template,
        {
            **admin.site.each_context(request),
            # The user tools and the sidebar stay hidden until the second factor is passed.
            "has_permission": False,
            "is_nav_sidebar_enabled": False,
            "next": _next_url(request),
            **context,
        },
    )


def _throttle_wait(devices):
    """Seconds until the first of `devices` takes a code again after repeated failures, or 0."""
    waits = []
    for device in devices:
        allowed, data = device.verify_is_allowed()
        if allowed:
            return 0
        locked_until = (data or {}).get("locked_until")
        if locked_until is not None:
            waits.append(max(1, int((locked_until - timezone.now()).total_seconds()) + 1))
    return min(waits, default=1) if devices else 0


def _check_code(user, code):
    """(the device that accepts `code`, or None; seconds to wait first, or 0).

    The code is an app's digits or a recovery code (used up by this).
    """
    model = TOTPDevice if code.isdigit() else StaticDevice
    devices = list(model.objects.devices_for_user(user, confirmed=True))
    wait = _throttle_wait(devices)
    if wait:
        return None, wait
    for device in devices:
        # django_otp.verify_token locks the device row, so a code works only once even
        # when two requests race.
        matched = verify_token(user, device.persistent_id, code)
        if matched is not None:
            return matched, 0
    return None, 0


def _axes_locked_out(request, credentials):
    if not settings.AXES_ENABLED:
        return False
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler.is_locked(request, credentials)


def _lock_out(request, credentials):
    """End the half-signed-in session; AxesMiddleware answers with the lockout page."""
    logout(request)
    request.axes_locked_out = True
    request.axes_credentials = credentials


@staff_signed_in
def verify(request):
    user = request.user
    next_url = _next_url(request)
    if not needs_second_factor(user):
        return redirect(next_url)
    if not has_device(user):
        return redirect(f"{reverse('two_factor:setup')}?{urlencode({'next': next_url})}")
    credentials = {getattr(settings, "AXES_USERNAME_FORM_FIELD", "username"): user.get_username()}
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        if _axes_locked_out(request, credentials):
            _lock_out(request, credentials)
            return _page(request, "two_factor/verify.html", step_title="Two-factor sign-in", form=form)
        if form.is_valid():
            device, wait = _check_code(user, form.cleaned_data["code"])
            if device is not None:
                otp_login(request, device)
                return redirect(next_url)
            form.add_error("code", throttled_message(wait) if wait else WRONG_CODE)
            # A wrong code counts as a failed sign-in for django-axes, like a wrong password.
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            if getattr(request, "axes_locked_out", False):
                _lock_out(request, credentials)
    has_passkey = WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
    recovery_left = sum(device.token_set.count() for device in StaticDevice.objects.filter(user=user))
    return _page(
        request,
        "two_factor/verify.html",
        step_title="Two-factor sign-in",
        form=form,
        has_passkey=has_passkey,
        recovery_left=recovery_left,
    )


def qr_code_svg(text):
    """An inline SVG QR code, drawn on the server: the secret never leaves the site."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return mark_safe(image.to_string(encoding="unicode"))  # noqa: S308 (our own drawing; no user markup)


def _grouped(secret):
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@staff_signed_in
def setup(request):
    """A first sign-in (or one after a reset): add an authenticator app, get recovery codes."""
    user = request.user
    next_url = _next_url(request)
    if has_device(user):
        return redirect(reverse("two_factor:verify" if needs_second_factor(user) else "two_factor:manage"))
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        wait = _throttle_wait([device])
        with transaction.atomic():
            if not wait and code.isdigit() and device.verify_token(code):
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                codes = new_recovery_codes(user)
                otp_login(request, device)
                return _page(
                    request,
                    "two_factor/recovery_codes.html",
                    step_title="Your recovery codes",
                    codes=codes,
                    next=next_url,
                )
        form.add_error("code", throttled_message(wait) if wait else WRONG_SETUP_CODE)
    secret = b32encode(device.bin_key).decode()
    return _page(
        request,
        "two_factor/setup.html",
        step_title="Set up two-factor sign-in",
        form=form,
        qr_code=qr_code_svg(device.config_url),
        secret=_grouped(secret),
        issuer=settings.OTP_TOTP_ISSUER,
        account=user.get_username(),
    )


@staff_signed_in
def manage(request):
    """A verified staff member's second factors: new recovery codes, passkeys."""
    user = request.user
    if needs_second_factor(user):
        return redirect(f"{reverse('two_factor:verify')}?{urlencode({'next': request.get_full_path()})}")
    if request.method == "POST" and "new_recovery_codes" in request.POST:
        return _page(
            request,
            "two_factor/recovery_codes.html",
            step_title="Your recovery codes",
            codes=new_recovery_codes(user),
            next=reverse("admin:index"),
        )
    context = admin.site.each_context(request)
    return render(
        request,
        "two_factor/manage.html",
        {
            **context,
            "title": "Two-factor sign-in",
            "has_app": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
            "recovery_left": sum(d.token_set.count() for d in StaticDevice.objects.filter(user=user)),
            "passkeys": WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at"),
        },
    )
