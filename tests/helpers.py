"""Helpers shared by test modules across apps."""

import glob
import time

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def totp_device(user):
    """The user's confirmed authenticator app (made on first use)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Test app", confirmed=True)


def totp_code(key, *, steps_ahead=0):
    """The code an authenticator app holding `key` (bytes) shows now, or `steps_ahead` periods later
    (the site accepts one period of clock drift; a code is taken only once)."""
    totp = TOTP(key, step=30, t0=0, digits=6)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def log_in_staff(client, user):
    """force_login plus a passed second factor: a staff session as it is after two-factor sign-in."""
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = totp_device(user).persistent_id
    session.save()
    return client


def clock_ahead_env(offset):
    """Environment variables that start a subprocess with its clock `offset` ahead ("+20m",
    "+3d"): Debian's libfaketime, preloaded. The offset is fixed for the process's life.

    The monotonic clock moves by the same offset (it is not left alone with
    FAKETIME_DONT_FAKE_MONOTONIC: with libfaketime 0.9.10 that makes Python's time.sleep()
    raise EINVAL), so a server's timeouts and sleeps behave as usual."""
    libraries = glob.glob("/usr/lib/*/faketime/libfaketime.so.1")
    if not libraries:
        raise RuntimeError("libfaketime is missing: apt-get install -y faketime")
    return {"LD_PRELOAD": libraries[0], "FAKETIME": offset}
