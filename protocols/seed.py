"""Seed content for protocols (placeholder created by the articles work; the protocols feature fills it in)."""


def seed_protocols(*, stdout=None):
    """Create the seed protocols that do not exist yet. Nothing to create yet."""
    return 0
