"""Staff two-factor sign-in: after the admin's password form, staff pass a second factor
(an authenticator app code, a recovery code or a passkey) before any admin page opens.

Built on django-otp (TOTP and static recovery codes) and django-otp-webauthn (passkeys).
Its pages are admin pages: their templates live in site_config/templates/two_factor/, apart
from the public site's templates/.
"""

from django.conf import settings
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

RECOVERY_CODE_COUNT = 10


def is_staff_member(user):
    return user.is_authenticated and user.is_active and (user.is_staff or user.is_superuser)


def needs_second_factor(user):
    """A signed-in staff member whose session has not passed the second factor yet."""
    return settings.ADMIN_REQUIRE_2FA and is_staff_member(user) and not user.is_verified()


def has_device(user):
    """Whether the user has set up a second factor (any confirmed device)."""
    return any(devices_for_user(user, confirmed=True))


def reset_devices(user):
    """Forget every second factor of `user`: at the next sign-in they set one up again.

    A session that passed with one of these devices is no longer verified either.
    """
    for model in (TOTPDevice, StaticDevice, WebAuthnCredential):
        model.objects.filter(user=user).delete()


def new_recovery_codes(user):
    """Replace the user's recovery codes with fresh ones; return them (shown once)."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name="Recovery codes", defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes
