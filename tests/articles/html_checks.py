"""Inspect rendered HTML as a browser would: elements and attributes, not substrings."""

from html.parser import HTMLParser


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def elements(html):
    collector = _Collector()
    collector.feed(html)
    return collector.elements


def dangerous_markup(html):
    """Scripts (other than JSON-LD data), event-handler attributes and javascript: URLs in `html`."""
    found = []
    for tag, attrs in elements(html):
        if tag in {"script", "iframe", "object", "embed"} and attrs.get("type") != "application/ld+json":
            found.append(tag)
        for name, value in attrs.items():
            if name.startswith("on"):
                found.append(f"{tag}[{name}]")
            if name in {"href", "src", "action"} and (value or "").strip().lower().startswith("javascript:"):
                found.append(f"{tag}[{name}={value}]")
    return found
