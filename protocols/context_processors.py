def banner(request):
    """The announcement banner: filled in by the protocols feature."""
    return {}
