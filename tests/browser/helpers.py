"""Small helpers shared by the browser journeys."""

import re


def link_in(message, path_fragment):
    """The first link in an email's plain text whose path contains `path_fragment`."""
    match = re.search(rf"https?://\S*{re.escape(path_fragment)}\S*", message.body)
    assert match, f"no link with {path_fragment!r} in:\n{message.body}"
    return match.group(0)


def tab_to(page, locator, *, limit=40):
    """Press Tab until `locator` has the focus, like a keyboard user; fail after `limit` presses."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if locator.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{locator} never received focus after {limit} Tab presses")
