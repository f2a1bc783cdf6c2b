import pytest

from protocols.forms import SignupForm


def form(**data):
    payload = {"email": "reader@example.org", "consent": "on", "website": ""}
    payload.update(data)
    return SignupForm(payload, consent_text="I agree.")


def test_valid_form_normalises_the_address():
    """The cleaned address is trimmed with its domain lower-cased."""
    f = form(email="  Reader@EXAMPLE.org ")
    assert f.is_valid(), f.errors
    assert f.cleaned_data["email"] == "Reader@example.org"


def test_consent_label_is_the_protocols_consent_text():
    """The checkbox's label is exactly what the subscriber agrees to."""
    assert SignupForm(consent_text="Send me the emails.")["consent"].label == "Send me the emails."


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "nope"}, "email", "Enter a valid email address, like name@example.com."),
        ({"email": "a@example.org\nBcc: b@example.org"}, "email", "Enter one email address, without line breaks."),
        ({"email": "a@example.org\rX"}, "email", "Enter one email address, without line breaks."),
        ({"email": "a\tb@example.org"}, "email", "Enter one email address, without line breaks."),
        ({"email": "x" * 243 + "@example.org"}, "email", "Email addresses can be at most 254 characters long."),
        ({"email": "x" * 5000}, "email", "Email addresses can be at most 254 characters long."),
        ({"consent": ""}, "consent", "Tick the box to agree, or we cannot send you anything."),
    ],
)
def test_field_errors_are_clear(data, field, message):
    """Each kind of bad input gets a plain-language error on its own field."""
    f = form(**data)
    assert not f.is_valid()
    assert f.errors[field] == [message]


@pytest.mark.parametrize("website", ["https://spam.example", "   ", "\t", "\n"])
def test_filled_honeypot_is_a_form_error(website):
    """A filled honeypot, even with only spaces, fails the form with a message in the
    summary (the field itself is invisible)."""
    f = form(website=website)
    assert not f.is_valid()
    assert "could not be sent" in f.non_field_errors()[0]


def test_invalid_fields_are_marked_for_assistive_technology():
    """After validation, invalid inputs carry aria-invalid and aria-describedby; the first gets autofocus."""
    f = form(email="nope", consent="")
    f.is_valid()
    email_attrs = f.fields["email"].widget.attrs
    consent_attrs = f.fields["consent"].widget.attrs
    assert email_attrs["aria-invalid"] == "true" and email_attrs["aria-describedby"] == "id_email-error"
    assert email_attrs.get("autofocus") is True
    assert consent_attrs["aria-invalid"] == "true" and "autofocus" not in consent_attrs


def test_widget_attributes_do_not_leak_between_forms():
    """Error attributes belong to one form instance, never to the next visitor's empty form."""
    bad = form(email="nope")
    bad.is_valid()
    assert "aria-invalid" not in SignupForm(consent_text="x").fields["email"].widget.attrs
