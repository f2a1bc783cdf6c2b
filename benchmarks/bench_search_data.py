"""The search benchmark's data: a Zipf-like vocabulary, generated articles, the query mix."""

from datetime import timedelta
from itertools import accumulate

WORDS_PER_ARTICLE = 400
EVERY_ARTICLE_WORD = "wellness"  # put in every article: the worst case for ranking
TAIL_WORDS = 7500
# PostgreSQL's english configuration drops these; a query of them alone finds nothing
# there but everything on SQLite, so the mix avoids them.
STOPWORDS = set(
    str.split(
        """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers him his how i if in into is it its itself just me more most my no nor not now
    of off on once only or other our out over own same she should so some such than that the their them
    then there these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your"""
    )
)


class Vocabulary:
    """Every word with a Zipf weight: common English first, subject words, then a rare tail."""

    def __init__(self, rng):
        from benchmarks.bench_words import COMMON, HEALTH, SYLLABLES

        words, seen = [], set()

        def add(word):
            if word not in seen:
                seen.add(word)
                words.append(word)

        for word in COMMON[:60]:
            add(word)
        rest_common, health = COMMON[60:], list(HEALTH)
        for i in range(max(len(rest_common), len(health))):
            if i < len(health):
                add(health[i])
            if i < len(rest_common):
                add(rest_common[i])
        target = len(words) + TAIL_WORDS
        while len(words) < target:
            add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
        self.words = words
        self.health = [w for w in HEALTH if w in seen]
        self.rank = {word: i for i, word in enumerate(words)}
        self.cum_weights = list(accumulate(1.0 / (rank + 1) for rank in range(len(words))))

    def draw(self, rng, k):
        return rng.choices(self.words, cum_weights=self.cum_weights, k=k)


def generate_articles(size, rng, vocabulary):
    from django.utils import timezone
    from taggit.models import Tag

    from articles.models import Article, TaggedArticle
    from benchmarks.bench_words import TAGS

    tags = [Tag.objects.create(name=name, slug=name.lower().replace(" ", "-")) for name in TAGS]
    tag_weights = list(accumulate(1.0 / (i + 1) for i in range(len(tags))))
    now = timezone.now()
    start = now - timedelta(days=5 * 365)
    step = (now - start) / size
    batch_size = 1000
    made = 0
    while made < size:
        articles, tag_sets = [], []
        for n in range(made, min(size, made + batch_size)):
            words = vocabulary.draw(rng, WORDS_PER_ARTICLE)
            paragraphs = [" ".join(words[i : i + 80]).capitalize() + "." for i in range(0, len(words), 80)]
            paragraphs[0] = f"{EVERY_ARTICLE_WORD.capitalize()} notes. {paragraphs[0]}"
            title_words = rng.choices(vocabulary.health, k=rng.randint(3, 7))
            roll = rng.random()
            status = Article.Status.DRAFT if roll < 0.02 else Article.Status.PUBLISHED
            published_at = start + step * n
            if 0.02 <= roll < 0.03:
                published_at = now + timedelta(days=rng.randint(1, 30))  # scheduled
            articles.append(
                Article(
                    title=" ".join(title_words).capitalize(),
                    slug=f"bench-{n}",
                    summary=" ".join(vocabulary.draw(rng, rng.randint(15, 25))).capitalize() + ".",
                    body="\n\n".join(paragraphs),
                    body_html="".join(f"<p>{p}</p>\n" for p in paragraphs),
                    status=status,
                    published_at=published_at,
                )
            )
            tag_sets.append(set(rng.choices(tags, cum_weights=tag_weights, k=rng.randint(1, 4))))
        created = Article.objects.bulk_create(articles)
        TaggedArticle.objects.bulk_create(
            [TaggedArticle(content_object=a, tag=t) for a, ts in zip(created, tag_sets, strict=True) for t in ts]
        )
        made += len(articles)
        if made % 10_000 == 0:
            print(f"  generated {made}", flush=True)


def query_mix(rng, vocabulary, count=200):
    """A fixed mix: rare, subject and common words, two words, prefixes and typos."""
    words = vocabulary.words
    tail = words[len(words) - TAIL_WORDS // 2 :]
    middle_tail = words[len(words) - TAIL_WORDS : len(words) - TAIL_WORDS // 2]
    health = vocabulary.health
    common = [w for w in words[20:200] if w not in STOPWORDS]

    def typo(word):
        i = rng.randrange(1, len(word) - 2)
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]

    mix = (
        [("rare", rng.choice(tail)) for _ in range(30)]
        + [("uncommon", rng.choice(middle_tail)) for _ in range(20)]
        + [("subject", rng.choice(health)) for _ in range(40)]
        + [("common", rng.choice(common)) for _ in range(20)]
        + [("every article", EVERY_ARTICLE_WORD) for _ in range(10)]
        + [("two subject words", f"{rng.choice(health)} {rng.choice(health)}") for _ in range(20)]
        + [("common + rare", f"{rng.choice(common)} {rng.choice(tail)}") for _ in range(10)]
        + [("two common words", f"{rng.choice(common)} {rng.choice(common)}") for _ in range(10)]
        + [("prefix", rng.choice([w for w in health if len(w) >= 6])[: rng.randint(4, 5)]) for _ in range(20)]
        + [("typo", typo(rng.choice([w for w in health if len(w) >= 6]))) for _ in range(20)]
    )
    assert len(mix) == count
    rng.shuffle(mix)
    return mix
