"""The protocols' admin: protocols with their program, signups, the outbox, bounced addresses."""

from .deliveries import AuditEventAdmin, BouncedAddressAdmin, EmailDeliveryAdmin
from .protocols import ProtocolAdmin
from .signups import SignupAdmin, csv_safe, export_rows

__all__ = [
    "AuditEventAdmin",
    "BouncedAddressAdmin",
    "EmailDeliveryAdmin",
    "ProtocolAdmin",
    "SignupAdmin",
    "csv_safe",
    "export_rows",
]
