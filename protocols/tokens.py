"""Signed links in emails: confirm (expiring), unsubscribe and the subscriber's page (never expire)."""

import hashlib
from datetime import timedelta

from django.core import signing

CONFIRM_SALT = "protocols.confirm"
UNSUBSCRIBE_SALT = "protocols.unsubscribe"
MANAGE_SALT = "protocols.manage"
CONFIRM_MAX_AGE = timedelta(days=7)


class LinkExpired(Exception):
    """The signature is genuine but too old; carries the signup id so a new email can be offered."""

    def __init__(self, signup_id):
        super().__init__(signup_id)
        self.signup_id = signup_id


def email_digest(email):
    """Binds a token to one address without putting the address in URLs (and access logs)."""
    return hashlib.sha256(email.lower().encode()).hexdigest()[:20]


def _payload(signup):
    return {"s": signup.pk, "e": email_digest(signup.email)}


def make_confirm_token(signup):
    return signing.dumps(_payload(signup), salt=CONFIRM_SALT, compress=True)


def make_unsubscribe_token(signup):
    return signing.dumps(_payload(signup), salt=UNSUBSCRIBE_SALT, compress=True)


def make_manage_token(signup):
    return signing.dumps(_payload(signup), salt=MANAGE_SALT, compress=True)


def read_manage_token(token):
    """(signup_id, email_digest) or raise signing.BadSignature."""
    data = signing.loads(token, salt=MANAGE_SALT)
    return _signup_id(data), _email(data)


def read_confirm_token(token):
    """(signup_id, email_digest) or raise LinkExpired / signing.BadSignature."""
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.SignatureExpired:
        data = signing.loads(token, salt=CONFIRM_SALT)  # genuine, only old
        raise LinkExpired(_signup_id(data)) from None
    return _signup_id(data), _email(data)


def read_unsubscribe_token(token):
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    return _signup_id(data), _email(data)


def _signup_id(data):
    if not isinstance(data, dict) or not isinstance(data.get("s"), int):
        raise signing.BadSignature("malformed payload")
    return data["s"]


def _email(data):
    if not isinstance(data.get("e"), str):
        raise signing.BadSignature("malformed payload")
    return data["e"]
