from django import forms
from taggit.forms import TagField, TagWidget
from taggit.models import Tag

from .citations import normalise_doi, normalise_pmid
from .models import Article, Reference
from .search import MAX_QUERY_CHARS

TAG_NAME_MAX_LENGTH = Tag._meta.get_field("name").max_length


def parse_comma_tags(text):
    """Tags separated by commas only, so “leg cramps” stays one tag; duplicates ignoring case dropped."""
    names = {}
    for part in (text or "").split(","):
        name = part.strip().strip('"').strip()
        if name:
            names.setdefault(name.lower(), name)
    return sorted(names.values(), key=str.lower)


class CommaTagWidget(TagWidget):
    def format_value(self, value):
        if value is not None and not isinstance(value, str):
            return ", ".join(sorted((tag.name for tag in value), key=str.lower))
        return super().format_value(value)


class CommaTagField(TagField):
    widget = CommaTagWidget

    def clean(self, value):
        names = parse_comma_tags(forms.CharField.clean(self, value))
        for name in names:
            if len(name) > TAG_NAME_MAX_LENGTH:
                raise forms.ValidationError(
                    f"“{name[:30]}…” is too long for a tag: {TAG_NAME_MAX_LENGTH} characters at most."
                )
            if not any(character.isalnum() for character in name):
                raise forms.ValidationError(f"“{name}” is not a tag: a tag needs at least one letter or digit.")
        return names


class ArticleAdminForm(forms.ModelForm):
    tags = CommaTagField(
        required=False,
        help_text="Separate tags with commas: “magnesium, leg cramps, sleep”. Case does not matter.",
    )

    class Meta:
        model = Article
        fields = [
            "title",
            "slug",
            "summary",
            "body",
            "tags",
            "status",
            "published_at",
            "author",
            "hero_image",
            "mentions_publisher_products",
            "assigned_reviewer",
            "review_interval_months",
        ]


class ReferenceForm(forms.ModelForm):
    """Accepts a DOI or PMID as pasted ("https://doi.org/10...", "PMID: 123") and stores it bare."""

    pmid = forms.CharField(label="PMID", required=False, max_length=100, help_text=Reference.pmid.field.help_text)
    url = forms.URLField(
        label="URL", required=False, max_length=500, assume_scheme="https", help_text=Reference.url.field.help_text
    )

    class Meta:
        model = Reference
        fields = ["position", "authors", "title", "journal", "year", "doi", "pmid", "url"]

    def clean_doi(self):
        return normalise_doi(self.cleaned_data.get("doi"))

    def clean_pmid(self):
        return normalise_pmid(self.cleaned_data.get("pmid"))


class SearchForm(forms.Form):
    """The query string of /search/."""

    # Not a max_length error: a long paste is shortened, like the input box does.
    q = forms.CharField(required=False, strip=True)
    tag = forms.SlugField(required=False, max_length=100, allow_unicode=True)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def clean_q(self):
        return self.cleaned_data["q"].replace("\x00", "")[:MAX_QUERY_CHARS].strip()
