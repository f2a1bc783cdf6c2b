"""The article page with a hero image and a body image in Chromium: accessible (axe, light and
dark), the browser picks an AVIF rendition of the right size, nothing shifts while images load,
and the page stays light on a phone. (Lighthouse's scores are in `make bench-images
BENCH_IMAGES_ARGS=--lighthouse`, docs/performance.md.)"""

import pytest

from articles.images.services import update_image_files
from articles.models import Article
from tests.articles import image_files

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 800}
PAGE_WEIGHT_LIMIT = 150 * 1024


@pytest.fixture
def article_with_images(seeded, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    image = image_files.make_image(image_files.jpeg_bytes(2400, 1600), caption="Calf muscles at rest.")
    body_image = image_files.make_image(image_files.jpeg_bytes(1200, 800), alt_text="A bottle of magnesium tablets")
    for made in (image, body_image):
        update_image_files(image_id=made.pk)
    article = Article.objects.get(slug="magnesium-and-leg-cramps")
    article.hero_image = image
    article.body = article.body.replace("\n## ", f"\n![](image:{body_image.pk})\n\n## ", 1)
    article.save()
    return seeded + article.get_absolute_url()


def test_the_article_with_images_has_no_axe_violations(page, article_with_images, axe_violations):
    page.set_viewport_size(PHONE)
    page.goto(article_with_images)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert axe_violations(page) == [], scheme


def test_a_phone_gets_a_small_avif_no_layout_shift_and_a_light_page(browser, article_with_images):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2)
    page = context.new_page()
    page.add_init_script(
        """window.__shift = 0;
        new PerformanceObserver(l => { for (const e of l.getEntries()) window.__shift += e.value; })
          .observe({type: 'layout-shift', buffered: true});"""
    )
    page.goto(article_with_images, wait_until="networkidle")
    hero = page.locator(".article-hero img")
    assert hero.evaluate("img => img.complete && img.naturalWidth > 0")
    current = hero.evaluate("img => img.currentSrc")
    assert current.endswith(".avif") and "-800w-" in current, current  # 375 px at 2x: the 800 px one
    assert hero.get_attribute("fetchpriority") == "high"

    body_image = page.locator(".article-figure img")
    assert body_image.get_attribute("loading") == "lazy"
    assert body_image.evaluate("img => img.naturalWidth") == 0  # below the fold: not loaded yet
    body_image.scroll_into_view_if_needed()  # loads on the way down
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=body_image.element_handle())
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__shift") == 0

    transferred = page.evaluate(
        """() => [performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')]
            .reduce((sum, e) => sum + e.transferSize, 0)"""
    )
    assert 0 < transferred <= PAGE_WEIGHT_LIMIT, transferred
    context.close()


def test_an_editor_sets_the_focal_point_by_clicking_the_preview(page, seeded, settings, tmp_path):
    from django.urls import reverse

    from tests.browser.test_staff import log_in, staff_user

    settings.MEDIA_ROOT = tmp_path / "media"
    image = image_files.make_image(image_files.jpeg_bytes(1200, 800))
    staff_user("editor", "Editors")
    log_in(page, seeded, "editor")
    page.goto(seeded + reverse("admin:articles_image_change", args=[image.pk]))
    preview = page.locator(".focal-picker img")
    box = preview.bounding_box()
    preview.click(position={"x": box["width"] * 0.25, "y": box["height"] * 0.75})
    assert float(page.locator("#id_focal_x").input_value()) == pytest.approx(0.25, abs=0.02)
    assert float(page.locator("#id_focal_y").input_value()) == pytest.approx(0.75, abs=0.02)
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/admin/articles/image/")
    image.refresh_from_db()
    assert (image.focal_x, image.focal_y) == (pytest.approx(0.25, abs=0.02), pytest.approx(0.75, abs=0.02))
