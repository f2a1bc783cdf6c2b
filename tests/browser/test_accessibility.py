"""Accessibility of every kind of public page: axe-core (WCAG 2.1 A and AA) in light and dark
colour schemes, plus the structure axe does not insist on: landmarks, one h1, labelled fields,
a working skip link, visible focus and the page language."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from protocols.emails import confirm_url, manage_url, unsubscribe_url
from protocols.models import EmailDelivery, Protocol, Signup

pytestmark = pytest.mark.browser


def _signup():
    protocol = Protocol.objects.get(slug="sleep-protocol")
    return Signup.objects.create(
        protocol=protocol, email="reader@example.org", consent_text=protocol.consent_text, consented_at=timezone.now()
    )


def _subscriber():
    """A confirmed subscriber of the Sleep Protocol who has received its first step."""
    signup = _signup()
    now = timezone.now()
    step = signup.protocol.steps.order_by("position").first()
    EmailDelivery.objects.create(
        signup=signup,
        kind=EmailDelivery.Kind.STEP,
        step=step,
        step_position=step.position,
        to_email=signup.email,
        subject=step.subject,
        sent_at=now,
    )
    Signup.objects.filter(pk=signup.pk).update(
        status=Signup.Status.CONFIRMED,
        confirmed_at=now,
        program_started_at=now,
        last_position_sent=step.position,
        last_step_sent_at=now,
        next_step_due_at=now + timedelta(days=2),
    )
    return signup


def _manage_page_with_errors(page, site):
    """The erase button pressed without the confirmation box: a 400 with the error."""
    page.goto(manage_url(_subscriber()))
    page.get_by_role("button", name="Erase my data").click()
    expect(page.get_by_role("alert")).to_contain_text("Tick the box to confirm")


def _signup_form_with_errors(page, site):
    page.goto(site + "/protocols/sleep-protocol/")
    page.get_by_role("textbox", name="Your email address").fill("not-an-address")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _goto(path, status=200):
    def visit(page, site):
        response = page.goto(site + path)
        assert response.status == status, f"{path}: {response.status}"

    return visit


def _goto_url(make_url):
    def visit(page, site):
        response = page.goto(make_url())
        assert response.status == 200

    return visit


PAGES = {
    "home": _goto("/"),
    "article list": _goto("/articles/"),
    "seed article": _goto("/articles/magnesium-and-leg-cramps/"),
    "tag page": _goto("/tags/magnesium/"),
    "tag index": _goto("/tags/"),
    "search with results": _goto("/search/?q=cramping"),
    "search with none": _goto("/search/?q=magnesuim"),
    "empty search": _goto("/search/"),
    "protocol list": _goto("/protocols/"),
    "protocol page": _goto("/protocols/sleep-protocol/"),
    "signup form with errors": _signup_form_with_errors,
    "thank-you page": _goto("/protocols/sleep-protocol/thanks/"),
    "confirm page": _goto_url(lambda: confirm_url(_signup())),
    "unsubscribe page": _goto_url(lambda: unsubscribe_url(_signup())),
    "subscriber's page": _goto_url(lambda: manage_url(_subscriber())),
    "subscriber's page with errors": _manage_page_with_errors,
    "404 page": _goto("/no-such-page/", status=404),
}


@pytest.mark.parametrize("name", PAGES)
def test_no_axe_violations_in_light_and_dark(page, seeded, axe_violations, name):
    """axe-core finds no WCAG 2.1 A/AA violation (contrast included) in either colour scheme."""
    page.emulate_media(color_scheme="light")
    PAGES[name](page, seeded)
    violations = {}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)  # restyles the loaded page, no reload needed
        assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (scheme == "dark")
        violations[scheme] = axe_violations(page)
    assert violations == {"light": [], "dark": []}


def test_axe_check_reports_violations(page, seeded, axe_violations):
    """The check itself works: a low-contrast paragraph and an unlabelled field are reported."""
    page.goto(seeded + "/")
    page.evaluate(
        """() => {
            const main = document.querySelector("main");
            main.insertAdjacentHTML("beforeend", '<p id="faint">Faint text</p><input type="text">');
            // Through the CSSOM: the CSP forbids inline style attributes.
            Object.assign(document.getElementById("faint").style, {color: "#bbb", background: "#fff"});
        }"""
    )
    found = " ".join(axe_violations(page))
    assert "color-contrast" in found and "label" in found


@pytest.mark.parametrize("name", PAGES)
def test_page_structure_keyboard_and_focus(page, seeded, name):
    """lang set; one h1; banner, navigation, main and contentinfo landmarks; every field labelled;
    the first Tab reaches the skip link, which moves focus to the main content; every element
    reached by Tab shows a clearly visible focus indicator."""
    PAGES[name](page, seeded)
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.locator("h1")).to_have_count(1)
    expect(page.get_by_role("banner")).to_have_count(1)
    expect(page.get_by_role("navigation", name="Main")).to_have_count(1)
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("contentinfo")).to_have_count(1)
    expect(page.get_by_role("search")).to_have_count(1)

    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll("input, select, textarea")]
            .filter(el => el.type !== "hidden" && el.getClientRects().length)
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                          && !el.getAttribute("aria-labelledby"))
            .map(el => el.outerHTML)"""
    )
    assert unlabelled == []

    if name == "signup form with errors":
        # Here the focus starts on the first invalid field (by design); its focus is visible.
        expect(page.get_by_role("textbox", name="Your email address")).to_be_focused()
        _assert_visible_focus(page)
        return
    if name == "subscriber's page with errors":
        expect(page.get_by_role("checkbox", name=re.compile("I understand that this deletes"))).to_be_focused()
        _assert_visible_focus(page)
        return
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    expect(page.get_by_role("link", name="Skip to main content")).to_be_in_viewport()
    _assert_visible_focus(page)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    for _ in range(8):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement === document.body"):
            break
        _assert_visible_focus(page)


def _assert_visible_focus(page):
    style = page.evaluate(
        """() => {
            const el = document.activeElement, s = getComputedStyle(el);
            return {tag: el.outerHTML.slice(0, 80), outline: s.outlineStyle, width: parseFloat(s.outlineWidth),
                    shadow: s.boxShadow};
        }"""
    )
    visible = (style["outline"] not in ("none", "") and style["width"] >= 2) or style["shadow"] != "none"
    assert visible, f"no visible focus indicator on {style}"


def test_skip_link_is_hidden_until_focused(page, seeded):
    """The skip link stays off screen for mouse users and appears on the first Tab."""
    page.goto(seeded + "/")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).not_to_be_in_viewport()
    page.keyboard.press("Tab")
    expect(skip).to_be_in_viewport()
    assert re.search(r"#main$", skip.get_attribute("href"))
