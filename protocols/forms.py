from django import forms
from django.core.exceptions import ValidationError

from .services import MAX_EMAIL_LENGTH, normalize_email, validate_signup_email


class SignupForm(forms.Form):
    email = forms.CharField(
        label="Your email address",
        # Longer input is accepted by the widget so the validator can explain the limit.
        max_length=1000,
        strip=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false", "inputmode": "email"}),
        error_messages={
            "required": "Enter your email address.",
            "max_length": f"Email addresses can be at most {MAX_EMAIL_LENGTH} characters long.",
        },
    )
    consent = forms.BooleanField(
        required=True,
        error_messages={"required": "Tick the box to agree, or we cannot send you anything."},
    )
    # Hidden from people by CSS (display: none) and from assistive tech; bots fill it in.
    # Anything at all in it, spaces included, marks a bot: not stripped before the check.
    website = forms.CharField(required=False, strip=False, label="Leave this field empty")

    def __init__(self, *args, consent_text="", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consent"].label = consent_text or "I agree to receive these emails."
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    def clean_email(self):
        email = normalize_email(self.cleaned_data["email"])
        if len(email) > MAX_EMAIL_LENGTH:
            raise ValidationError(f"Email addresses can be at most {MAX_EMAIL_LENGTH} characters long.")
        try:
            validate_signup_email(email)
        except ValidationError as exc:
            raise ValidationError(
                "Enter a valid email address, like name@example.com."
                if exc.code == "invalid" and "line breaks" not in str(exc.messages)
                else exc.messages[0]
            ) from None
        return email

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("website"):
            # Shown in the error summary: the field itself is invisible.
            raise ValidationError(
                "This form could not be sent. If you are a person, please try again.", code="honeypot"
            )
        return cleaned

    def full_clean(self):
        super().full_clean()
        # Accessibility: invalid fields say so and point at their error text; the first
        # one gets focus when the page loads (no JavaScript needed).
        focused = False
        for name in self.errors:
            if name not in self.fields or name == "website":
                continue
            attrs = self.fields[name].widget.attrs
            attrs["aria-invalid"] = "true"
            attrs["aria-describedby"] = f"{self[name].auto_id}-error"
            if not focused:
                attrs["autofocus"] = True
                focused = True


class FocusFirstError:
    """A refused form reloads the page at the top: the first invalid field takes the focus
    (the browser scrolls to it), like the signup form's."""

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["autofocus"] = True
                break


def time_zone_choices(protocol):
    from .models import available_time_zones

    return [("", f"The protocol's time zone ({protocol.time_zone})")] + [
        (name, name.replace("_", " ")) for name in sorted(available_time_zones())
    ]


class TimeZoneForm(FocusFirstError, forms.Form):
    time_zone = forms.ChoiceField(label="Your time zone", required=False)

    def __init__(self, *args, protocol, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zone_choices(protocol)
        self.fields["time_zone"].error_messages["invalid_choice"] = "Choose a time zone from the list."


class EraseForm(FocusFirstError, forms.Form):
    confirm = forms.BooleanField(
        label="I understand that this deletes my signups and the record of the emails sent to me, for good.",
        error_messages={"required": "Tick the box to confirm that you want your data erased."},
    )
