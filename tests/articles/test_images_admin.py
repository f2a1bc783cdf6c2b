"""The image library in the admin: list and search, the focal point, the hero picker, and
deletes refused while an article uses the image."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from articles.models import Article, Image
from tests.articles import image_files
from tests.articles.factories import make_article
from tests.helpers import log_in_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


@pytest.fixture
def staff_client(client):
    return log_in_staff(client, get_user_model().objects.create_superuser("boss", "boss@example.com", "pw"))


def test_the_list_shows_thumbnails_and_searches_alt_caption_and_credit(staff_client):
    image_files.make_image(alt_text="Almonds in a bowl", caption="Raw almonds", credit="Ann Lee / CC0")
    image_files.make_image(alt_text="A runner at dawn", caption="", credit="Bo Park / Unsplash licence")
    url = reverse("admin:articles_image_changelist")
    listing = staff_client.get(url).content.decode()
    assert listing.count('class="image-thumbnail"') == 2
    for term, expected, absent in [
        ("almonds", "Almonds in a bowl", "A runner at dawn"),
        ("unsplash", "A runner at dawn", "Almonds in a bowl"),
        ("raw", "Almonds in a bowl", "A runner at dawn"),
    ]:
        page = staff_client.get(url, {"q": term}).content.decode()
        assert expected in page and absent not in page, term
    assert staff_client.get(url, {"in_use": "hero"}).status_code == 200
    assert staff_client.get(url, {"renditions": "waiting"}).status_code == 200


def test_the_change_form_has_a_focal_point_picker_with_number_fields(staff_client):
    image = image_files.make_image()
    page = staff_client.get(reverse("admin:articles_image_change", args=[image.pk])).content.decode()
    assert 'class="focal-picker"' in page and "focal-point.js" in page
    assert 'name="focal_x"' in page and 'name="focal_y"' in page


def test_changing_the_focal_point_keeps_the_file_and_queues_a_new_crop(
    staff_client, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    image = image_files.make_image()
    name = image.file.name
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:articles_image_change", args=[image.pk]),
            {"alt_text": image.alt_text, "caption": "", "credit": image.credit, "focal_x": "0.2", "focal_y": "0.8"},
        )
    assert response.status_code == 302
    image.refresh_from_db()
    assert (image.focal_x, image.focal_y, image.file.name) == (0.2, 0.8, name)
    assert DBTaskResult.objects.filter(task_path="articles.images.tasks.make_image_files").count() == 1


def test_replacing_the_file_removes_the_old_files_and_queues_new_ones(
    staff_client, media_root, django_capture_on_commit_callbacks
):
    from articles.images.services import update_image_files
    from tests.articles.image_files import stored_files

    image = image_files.make_image(image_files.jpeg_bytes(900, 600))
    update_image_files(image_id=image.pk)
    image.refresh_from_db()
    old_files = image.stored_names()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:articles_image_change", args=[image.pk]),
            {
                "file": image_files.upload(image_files.jpeg_bytes(500, 800), "new.jpg"),
                "alt_text": image.alt_text,
                "caption": "",
                "credit": image.credit,
                "focal_x": "0.5",
                "focal_y": "0.5",
            },
        )
    assert response.status_code == 302
    image.refresh_from_db()
    assert (image.width, image.height) == (500, 800)
    assert image.renditions == [] and image.social_name == ""  # the page shows the new original meanwhile
    assert stored_files(media_root) == [image.file.name]
    assert image.file.name not in old_files


def test_a_focal_point_outside_the_picture_is_refused(staff_client):
    image = image_files.make_image()
    response = staff_client.post(
        reverse("admin:articles_image_change", args=[image.pk]),
        {"alt_text": image.alt_text, "caption": "", "credit": image.credit, "focal_x": "1.5", "focal_y": "-1"},
    )
    form = response.context["adminform"].form
    assert "focal_x" in form.errors and "focal_y" in form.errors


def test_the_article_form_picks_the_hero_by_autocomplete(staff_client):
    image = image_files.make_image(alt_text="Magnesium tablets", credit="Jane Doe / CC BY 4.0")
    form = staff_client.get(reverse("admin:articles_article_add")).content.decode()
    assert 'name="hero_image"' in form and "admin-autocomplete" in form
    assert 'id="add_id_hero_image"' in form  # "+": upload a new image in a pop-up
    found = staff_client.get(
        reverse("admin:autocomplete"),
        {"term": "magnesium", "app_label": "articles", "model_name": "article", "field_name": "hero_image"},
    ).json()
    assert found["results"] == [{"id": str(image.pk), "text": "Magnesium tablets"}]


def test_deleting_an_image_in_use_is_refused_naming_the_articles(staff_client):
    image = image_files.make_image()
    make_article(title="Magnesium and sleep", hero_image=image)
    make_article(title="Zinc and colds", body=f"Text.\n\n![](image:{image.pk})")
    make_article(title="Unrelated", body=f"![](image:{image.pk}0)")  # image 10x, not this one
    url = reverse("admin:articles_image_delete", args=[image.pk])

    response = staff_client.post(url, {"post": "yes"}, follow=True)
    message = " ".join(str(m) for m in response.context["messages"])
    assert "was not deleted" in message
    assert "“Magnesium and sleep”" in message and "“Zinc and colds”" in message and "Unrelated" not in message
    assert Image.objects.filter(pk=image.pk).exists()
    assert image_files.read_back(Image.file.field.storage, image.file.name)


def test_the_bulk_delete_action_refuses_images_in_use_too(staff_client):
    used = image_files.make_image()
    make_article(title="Zinc and colds", body=f"![](image:{used.pk})")
    response = staff_client.post(
        reverse("admin:articles_image_changelist"),
        {"action": "delete_selected", "_selected_action": [used.pk], "post": "yes"},
    )
    assert "Zinc and colds" in response.content.decode()
    assert Image.objects.filter(pk=used.pk).exists()


def test_an_unused_image_can_be_deleted_with_its_files(staff_client, media_root, django_capture_on_commit_callbacks):
    from articles.images.services import update_image_files
    from tests.articles.image_files import stored_files

    image = image_files.make_image()
    update_image_files(image_id=image.pk)
    assert len(stored_files(media_root)) > 1
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("admin:articles_image_delete", args=[image.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Image.objects.exists()
    assert [name for name in stored_files(media_root) if not name.startswith("images/cards/")] == []


def test_the_database_refuses_deleting_a_hero_too():
    from django.db.models import ProtectedError

    image = image_files.make_image()
    make_article(hero_image=image)
    with pytest.raises(ProtectedError):
        image.delete()
    assert Article.objects.filter(hero_image=image).exists()


def test_versions_compare_and_restore_the_hero_image():
    """The hero is part of each version; restoring one whose image was deleted since leaves no hero."""
    from articles.history import compare, restore_version

    first, second = image_files.make_image(alt_text="First picture"), image_files.make_image(alt_text="Second one")
    article = make_article(hero_image=first)
    old_version = article.history.order_by("history_date").first()
    article.hero_image = second
    article.save()
    rows = {row["field"]: row for row in compare(old_version, article)}
    assert rows["hero image"]["changed"]
    assert (rows["hero image"]["old"], rows["hero image"]["new"]) == ("First picture", "Second one")

    restore_version(article, old_version)
    assert Article.objects.get(pk=article.pk).hero_image == first
    article.hero_image = second
    article.save()
    Image.objects.filter(pk=first.pk).delete()
    restore_version(article, old_version)
    assert Article.objects.get(pk=article.pk).hero_image is None
