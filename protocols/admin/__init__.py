"""The protocols' admin: protocols with their program, signups, the outbox, bounced addresses."""

from .deliveries import BouncedAddressAdmin, EmailDeliveryAdmin
from .protocols import ProtocolAdmin
from .signups import SignupAdmin, csv_safe, export_rows

__all__ = ["BouncedAddressAdmin", "EmailDeliveryAdmin", "ProtocolAdmin", "SignupAdmin", "csv_safe", "export_rows"]
