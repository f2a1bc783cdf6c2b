"""Staff groups for `manage.py setup_roles` (merged with every app's ROLES)."""

ROLES = {
    # Marketing sees protocols and signups and exports them; it edits no articles
    # (no articles.* permission here) and cannot change signups or protocols.
    "Marketing": {
        "protocols.view_protocol",
        "protocols.view_signup",
        "protocols.export_signups",
        "protocols.view_emaildelivery",
    },
}
