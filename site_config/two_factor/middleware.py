"""Keep staff who have not passed the second factor out of the admin and out of staff views."""

from django.contrib.auth.models import AnonymousUser
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from . import needs_second_factor

# Pages a half-signed-in staff member may open: the sign-in itself, the two-factor pages,
# the passkey ceremony endpoints and signing out.
OPEN_NAMESPACES = {"two_factor", "otp_webauthn"}
OPEN_ADMIN_VIEWS = {"login", "logout"}


class StaffTwoFactorMiddleware:
    """After the password, a staff session counts for nothing until the second factor.

    Admin pages redirect to the code page (or to setting up a device on a first sign-in);
    public pages see an anonymous visitor, so drafts are not previewed on a password alone.
    Goes after django_otp's OTPMiddleware, which gives `request.user.is_verified()`.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not needs_second_factor(request.user):
            return None
        match = request.resolver_match
        namespaces = set(match.namespaces) if match else set()
        if namespaces & OPEN_NAMESPACES:
            return None
        if "admin" in namespaces:
            if match.url_name in OPEN_ADMIN_VIEWS:
                return None
            return redirect(f"{reverse('two_factor:verify')}?{urlencode({'next': request.get_full_path()})}")
        request.user = AnonymousUser()
        return None
