"""The user admin, with a superuser's action to reset a lost second factor; passkeys listed
beside django-otp's own device admins (which register themselves)."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django_otp_webauthn.admin import WebAuthnCredentialAdmin
from django_otp_webauthn.models import WebAuthnCredential

from .two_factor import reset_devices

User = get_user_model()


class StaffUserAdmin(UserAdmin):
    actions = ["reset_two_factor"]

    @admin.action(description="Reset two-factor sign-in (they set it up again at their next sign-in)",
                  permissions=["reset_two_factor"])  # fmt: skip
    def reset_two_factor(self, request, queryset):
        for user in queryset:
            reset_devices(user)
        self.message_user(
            request,
            f"Two-factor sign-in reset for {len(queryset)} user(s): each sets up a new device at the next sign-in.",
            messages.SUCCESS,
        )

    def has_reset_two_factor_permission(self, request):
        # Only a superuser: anyone who can reset a device can take over the account with its password.
        return request.user.is_superuser


admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
admin.site.register(WebAuthnCredential, WebAuthnCredentialAdmin)
