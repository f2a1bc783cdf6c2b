"""What a search returns: a page of hits, the facets, a suggestion."""

from dataclasses import dataclass, field

from taggit.models import Tag

from ..models import Article


@dataclass
class Hit:
    article: Article
    snippet: str  # safe HTML: escaped text with <mark> around matched words
    tags: list = field(default_factory=list)  # the article's tags, by name


@dataclass
class Facet:
    name: str
    slug: str
    count: int


@dataclass
class SearchResults:
    query: str = ""
    words: list = field(default_factory=list)
    tag: Tag | None = None
    ran: bool = False  # False for an empty query: nothing was searched
    total: int = 0
    # False when more articles matched than were ranked (a common word at scale): the
    # pages show the best-ranked candidates and `total` counts all (up to a cap).
    complete: bool = True
    total_capped: bool = False
    page_obj: object = None
    facets: list = field(default_factory=list)
    suggestion: str = ""
    suggestion_total: int = 0
    popular_tags: list = field(default_factory=list)

    @property
    def hits(self):
        return list(self.page_obj.object_list) if self.page_obj else []
