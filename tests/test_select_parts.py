"""The selector's parts on documents in memory: similarity, groups, scores, picking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from digest.config import SelectionSettings
from digest.selection.apart import places_apart
from digest.selection.corpus import Corpus, Doc, scan
from digest.selection.groups import near_duplicate_groups
from digest.selection.picking import pick_top_stories
from digest.selection.scoring import ScoreParts, coverage, popularity, recency
from digest.selection.selector import Choice, choose, explain

END = datetime(2025, 6, 4, 4, tzinfo=UTC)

IRAN = (
    "Iran and US resume nuclear talks in Oman",
    "Negotiators from Tehran and Washington met in Muscat on uranium enrichment limits.",
)
IRAN_COPY = (
    "Iran, US resume nuclear talks in Oman, officials say",
    "Negotiators from Tehran and Washington met in Muscat on uranium enrichment limits.",
)
IRAN_ANGLE = (
    "Trump demands Iran halt uranium enrichment",
    "The president said any nuclear deal must end enrichment, narrowing room in the talks.",
)
LION = (
    "Businessman mauled by lion at Namibian lodge",
    "A guest was attacked at a safari lodge, renewing questions about safety.",
)
FILM = (
    "Director wins Palme d'Or at Cannes festival",
    "The filmmaker's prize crowns a career marked by travel bans and censorship.",
)


def make_doc(number: int, text: tuple[str, str], **fields: object) -> tuple[Doc, str]:
    defaults: dict = {
        "section": "World",
        "source": f"feed{number}",
        "published_at": END - timedelta(hours=number),
    }
    defaults.update(fields)
    return Doc(id=number, guid=f"g{number:03d}", title=text[0], **defaults), text[1]


def test_cosine_is_one_for_copies_zero_for_strangers_and_symmetric() -> None:
    pairs = [make_doc(1, IRAN), make_doc(2, IRAN), make_doc(3, LION), make_doc(4, IRAN_ANGLE)]
    corpus = Corpus(pairs)
    iran, copy, lion, angle = corpus.full
    found = corpus.search([iran.vector], 0.0)[0]
    similarity = {match.doc.id: match.similarity for match in found}
    assert similarity[copy.id] > 0.999
    assert lion.id not in similarity
    forward = scan([angle], [iran.vector], 0.0)[0][0].similarity
    backward = scan([iran], [angle.vector], 0.0)[0][0].similarity
    assert abs(forward - backward) < 1e-12 and 0.0 < forward < 1.0


def test_headline_counts_more_than_body() -> None:
    shared_title = make_doc(1, ("Volcano erupts on Flores", "Ash closed the airport."))
    same_title = make_doc(2, ("Volcano erupts on Flores", "Villagers fled to shelters."))
    same_body = make_doc(3, ("Airport news", "Ash closed the airport."))
    corpus = Corpus([shared_title, same_title, same_body, make_doc(4, LION), make_doc(5, FILM)])
    found = {m.doc.id: m.similarity for m in corpus.search([corpus.full[0].vector], 0.0)[0]}
    assert found[2] > found[3]


def test_near_duplicates_are_grouped_and_connected() -> None:
    docs = [
        make_doc(5, IRAN),
        make_doc(4, IRAN_COPY),
        make_doc(3, LION),
        make_doc(2, (IRAN_COPY[0] + " again", IRAN_COPY[1])),
        make_doc(1, FILM),
    ]
    corpus = Corpus(docs)
    groups = near_duplicate_groups([doc.vector for doc in corpus.full], 0.5)
    assert groups[0] == groups[1] == groups[3]
    assert len({groups[0], groups[2], groups[4]}) == 3


def test_recency_popularity_and_coverage_scales() -> None:
    assert recency(END, END, 12) == 1.0
    assert abs(recency(END - timedelta(hours=12), END, 12) - 0.5) < 1e-12
    assert recency(END + timedelta(hours=1), END, 12) == 1.0
    docs = [make_doc(n, LION, popularity=views)[0] for n, views in ((1, 1000), (2, 10), (3, None))]
    views = popularity(docs)
    assert views[0] == 1.0 and 0.0 < views[1] < 1.0
    assert views[2] == (views[0] + views[1]) / 2  # unknown counts as the median
    assert popularity([make_doc(1, LION)[0]]) == [0.0]
    assert coverage([2, 2, 1, 0]) == [0.5, 0.5, 0.0, 0.0]


def test_pick_keeps_sections_diverse_and_sets_aside_the_same_story() -> None:
    ranked = [make_doc(n, LION, section="World")[0] for n in range(1, 6)]
    ranked.append(make_doc(6, FILM, section="Culture")[0])
    outcome = pick_top_stories(ranked, 4, lambda a, b: False)
    picked = outcome.picked
    assert [d.section for d in picked[:3]] == ["World", "World", "Culture"]
    assert picked[3].section == "World"  # no other section has candidates: the cap gives way
    assert [d.id for d in outcome.beaten[6]] == [3, 4, 5]  # passed over for the section cap
    assert picked[3].id == 3 and outcome.beaten[1] == outcome.beaten[3] == []
    outcome = pick_top_stories(ranked, 3, lambda a, b: {a.id, b.id} == {1, 2})
    assert [d.id for d in outcome.picked] == [1, 6, 3]
    assert [d.id for d in outcome.same_event[1]] == [2]
    outcome = pick_top_stories(ranked, 5, lambda a, b: {a.id, b.id} == {1, 2})
    assert [d.id for d in outcome.picked] == [1, 3, 6, 4, 5]  # the same event never fills


def test_the_candidates_a_story_beat_are_named_once_per_event() -> None:
    # Three reports of one fire, passed over for a full World section, were listed as
    # three candidates beaten (a breaker pass).
    sections = ["World", "World", "World", "World", "Sport"]
    ranked = [make_doc(n, LION, section=sections[n - 1])[0] for n in range(1, 6)]
    fire = {2, 3, 4}
    outcome = pick_top_stories(ranked, 3, lambda a, b: {a.id, b.id} <= fire)
    assert [d.id for d in outcome.picked] == [1, 5, 2]
    assert [d.id for d in outcome.beaten[5]] == [2]


def test_pick_names_the_candidates_it_passed_over_and_never_asked_about() -> None:
    # One World story at most: 2 ranks above 3 and 4 but is passed over each time, so
    # picking never asks whether it reports 1's event; the selector does (`choose`).
    sections = ["World", "World", "Culture", "Sport", "Science"]
    ranked = [make_doc(n, LION, section=sections[n - 1])[0] for n in range(1, 6)]
    outcome = pick_top_stories(ranked, 3, lambda a, b: {a.id, b.id} == {1, 2})
    assert [d.id for d in outcome.picked] == [1, 3, 4]
    assert [d.id for d in outcome.passed_over] == [2]
    assert outcome.same_event[1] == []


def test_pick_sets_aside_what_is_related_to_a_set_aside_report_one_step_only() -> None:
    sections = ["World", "Business", "Sport", "Culture", "Science"]
    ranked = [make_doc(n, LION, section=sections[n - 1])[0] for n in range(1, 6)]

    def same(a: Doc, b: Doc) -> bool:
        return {a.id, b.id} == {1, 2}  # 2 reports the event of 1

    def related(a: Doc, b: Doc) -> bool:
        return {a.id, b.id} in ({2, 3}, {3, 4})  # 3 is related to 2, 4 only to 3

    outcome = pick_top_stories(ranked, 5, same, related)
    assert [d.id for d in outcome.picked] == [1, 4, 5]
    assert [d.id for d in outcome.same_event[1]] == [2, 3]


def test_choose_one_top_per_event_and_related_without_filler() -> None:
    window = [
        make_doc(1, IRAN, priority=1),
        make_doc(2, IRAN_COPY, priority=1, source="wire"),
        make_doc(3, IRAN_ANGLE),
        make_doc(4, LION),
        make_doc(5, FILM, section="Culture"),
    ]
    corpus = Corpus(window)
    choices = choose(corpus, [doc for doc, _ in window], END, SelectionSettings())
    tops = [choice.doc.id for choice in choices]
    assert len({1, 2} & set(tops)) == 1
    iran = next(choice for choice in choices if choice.doc.id in (1, 2))
    assert iran.doc.id == 1  # newer, same coverage
    assert [m.doc.id for m in iran.related] == [3]
    lion = next(choice for choice in choices if choice.doc.id == 4)
    assert lion.related == []
    assert len(choices) == 3  # a quiet day: the related angle is not made a second top story
    everything = [c.doc.id for c in choices] + [m.doc.id for c in choices for m in c.related]
    assert len(everything) == len(set(everything))


SBARRO = (
    "Sbarro files for Chapter 11 bankruptcy",
    "The mall pizza chain Sbarro filed for bankruptcy protection for the second time.",
)
SBARRO_AGAIN = (
    "Sbarro goes bust again",
    "The mall pizza chain owes lenders millions and blames falling food-court traffic.",
)
GOX = (
    "Bitcoin exchange Mt Gox shuts down, coins missing",
    "Customers of the Tokyo exchange cannot reach their bitcoins after a theft.",
)
GOX_AGAIN = (
    "Mt Gox bitcoin exchange goes dark in Tokyo",
    "Bitcoins worth millions are missing from the exchange, customers say.",
)
GOX_FILING = (
    "Mt Gox files for Chapter 15 bankruptcy in US court",
    "The Tokyo bitcoin exchange asked a Dallas judge to shield it from creditors.",
)


def test_a_report_of_another_top_storys_event_is_not_related() -> None:
    # The Mt Gox filing passes the floor under Sbarro's filing (files, chapter,
    # bankruptcy, protection) and reports the Mt Gox story's event: it is listed under
    # neither top story, and nothing appears twice.
    window = [
        make_doc(1, SBARRO, priority=2),
        make_doc(2, SBARRO_AGAIN),
        make_doc(3, GOX, priority=1, section="Business"),
        make_doc(4, GOX_AGAIN),
        make_doc(5, GOX_FILING),
        make_doc(6, LION),
        make_doc(7, FILM, section="Culture"),
    ]
    choices = choose(Corpus(window), [doc for doc, _ in window], END, SelectionSettings())
    assert [choice.doc.id for choice in choices] == [1, 3, 6, 7]
    # Sbarro's other report scores below 0.85 of the Mt Gox filing: the filing does not
    # set the bar either
    assert [[m.doc.id for m in choice.related] for choice in choices] == [[2], [4], [], []]


def test_an_event_named_by_most_of_a_candidates_neighbours_is_its_event() -> None:
    # "Digital currencies" never says "bitcoin"; half the reports related to it do, and
    # "bitcoin" is a keyword of the Mt Gox story's event: one event, one top story.
    window = [
        make_doc(1, ("Bitcoin exchange Mt Gox files for bankruptcy", ""), priority=2),
        make_doc(2, ("Mt Gox bitcoin exchange goes bankrupt in Tokyo", "")),
        make_doc(3, ("Hackers claim Mt Gox chief kept customers' bitcoin", "")),
        make_doc(4, ("Investors warned about investing in digital currencies", ""), priority=1),
        make_doc(5, ("Investors warned about betting on digital currencies", "")),
        make_doc(6, ("Digital currency is here to stay, whether it is bitcoin or another", "")),
        make_doc(7, ("Japan comes down hard on the digital currency bitcoin", "")),
        make_doc(8, LION, section="Culture"),
        make_doc(9, ("Lion mauls guest at Namibian safari lodge", ""), section="Culture"),
    ]
    choices = choose(Corpus(window), [doc for doc, _ in window], END, SelectionSettings())
    assert [choice.doc.id for choice in choices] == [1, 8]
    assert 4 in [doc.id for doc in choices[0].reports]


BITCOIN_DAY = [
    "Bitcoin exchange Mt Gox files for bankruptcy",
    "Mt Gox files for bankruptcy in Tokyo court",
    "Mt Gox seeks bankruptcy protection in Tokyo",
    "Tokyo exchange Mt Gox bankruptcy filing stuns users",
]
STRAY = ("Why I would not trust Bitcoin with my savings or my pension", "")


def bitcoin_day(source: str | None = None) -> list[tuple[Doc, str]]:
    """The Mt Gox story (4 reports, one saying "bitcoin"), the lion story (2), and three
    lone reports: one shares only "bitcoin" with the big story's lead, two share nothing
    with anything."""
    texts = [
        *((title, "") for title in BITCOIN_DAY),
        (LION[0], ""),
        ("Lion mauls guest at Namibian safari lodge", ""),
        STRAY,
        ("City expands bus network to the airport", ""),
        ("Library opens a new branch downtown", ""),
    ]
    fields = {} if source is None else {"source": source}
    return [make_doc(number, text, **fields) for number, text in enumerate(texts, start=1)]


def test_a_lone_report_naming_the_days_big_word_is_that_events() -> None:
    # Six of nine articles are reported by several sources (not the three in four from
    # which lone reports are set aside outright), and "bitcoin" is in two of the nine
    # (one Mt Gox report in four says it: not the event's keyword): the lone "Why I
    # would not trust Bitcoin ..." is the Mt Gox story's stray, not a second top story
    # on it. The other lone reports name nothing of the day's and stay.
    window = bitcoin_day()
    choices = choose(Corpus(window), [doc for doc, _ in window], END, SelectionSettings())
    assert [choice.doc.id for choice in choices] == [1, 5, 8, 9]
    assert 7 in [doc.id for doc in choices[0].reports]


def corroborated_day(lone: str) -> list[tuple[Doc, str]]:
    """The Mt Gox story (4 sources), the lion story (2), the bus story (2), and one lone
    report headed `lone`: eight of nine articles are reported by several sources, so
    the lone one is set aside (not a top story)."""
    return [
        *((make_doc(number, (title, "")) for number, title in enumerate(BITCOIN_DAY, 1))),
        make_doc(5, (LION[0], "")),
        make_doc(6, ("Lion mauls guest at Namibian safari lodge", "")),
        make_doc(7, ("City expands bus network to the airport", "")),
        make_doc(8, ("Bus network to reach the city airport", "")),
        make_doc(9, (lone, "")),
    ]


def test_a_lone_report_set_aside_is_listed_and_counted_under_its_event() -> None:
    # The lone report's headline names the Mt Gox story's keyword (and shares nothing
    # else with it): it is one of that story's reports, as --explain lists them, and
    # its source counts.
    window = corroborated_day("Customers of Gox wonder what is left of their savings")
    choices = choose(Corpus(window), [doc for doc, _ in window], END, SelectionSettings())
    assert [choice.doc.id for choice in choices] == [1, 5, 7]
    assert [doc.id for doc in choices[0].reports] == [2, 3, 4, 9]
    assert choices[0].parts.sources == 5


def test_a_lone_report_of_two_stories_events_counts_under_the_first_only() -> None:
    # The lone report names a keyword of the Mt Gox story and one of the lion story:
    # it is listed, and its source counted, under the edition's first story only.
    window = corroborated_day("Gox savers and a lion keeper top the week's letters")
    choices = choose(Corpus(window), [doc for doc, _ in window], END, SelectionSettings())
    assert [choice.doc.id for choice in choices] == [1, 5, 7]
    assert [[doc.id for doc in choice.reports] for choice in choices] == [[2, 3, 4, 9], [6], [8]]
    assert [choice.parts.sources for choice in choices] == [5, 2, 2]


def test_one_publications_lone_reports_are_never_strays() -> None:
    # One site's own feed: every article is a lone report, so none is a stray of
    # another; the piece on Bitcoin is a top story of its own.
    window = bitcoin_day(source="https://site.example/rss")
    choices = choose(Corpus(window), [doc for doc, _ in window], END, SelectionSettings())
    assert 7 in [choice.doc.id for choice in choices]


def test_reporters_are_outlets_and_a_page_fetched_twice_is_one_report() -> None:
    from digest.selection.identity import reporters

    found = reporters(
        [
            ("http://127.0.0.1:8000/world.json", "https://www.bugle.example/a"),
            ("http://localhost:8000/top.json", "http://bugle.example/b"),  # same outlet
            ("http://127.0.0.1:8000/herald.json", "https://herald.example/c"),  # same server
            ("feedA.json", "https://www.daily.example/p"),
            ("feedB.json", "http://daily.example/p/?utm_source=rss"),  # the same page again
            ("world.json", "https://news.example/1"),  # one outlet's two files
            ("top.json", "https://news.example/2"),
            ("https://feeds.cnn.com/rss/world.xml", "https://edition.cnn.com/2025/x"),
            ("https://rss.cnn.com/top.rss", "https://www.cnn.com/2025/y"),  # cnn.com: one
            ("export.json", ""),  # no URL: its source
            ("cnn-export.json", "https://www.cnn.com/2025/z"),  # cnn.com's file: its feed's
            ("http://metro.example/news.rss", ""),  # no URL: its feed, whatever the scheme
            ("https://www.metro.example/news.rss", ""),
            ("https://metro.example/local.rss", ""),  # another feed: no URL tells they are one
        ]
    )
    assert found[0] == found[1] != found[2]
    assert found[3] == found[4]
    assert found[5] == found[6] != found[3]
    assert found[7] == found[8]
    assert found[9] == "export.json"
    assert found[10] == found[7]
    assert found[11] == found[12] != found[13]


def test_a_site_is_its_registrable_domain_by_the_public_suffix_list() -> None:
    from digest.selection.identity import site

    assert site("https://news.example/a") == "news.example"
    assert site("https://www.aljazeera.net/news/1") == "aljazeera.net"
    assert site("https://edition.cnn.com/2025/x") == "cnn.com"
    assert site("https://www.bbc.co.uk/news/1") == "bbc.co.uk"
    assert site("https://news.bbc.co.uk/1") == "bbc.co.uk"
    assert site("https://sport.alarabiya.net.sa/1") == "alarabiya.net.sa"
    assert site("https://someone.github.io/post") == "someone.github.io"
    assert site("https://co.uk/") == "co.uk"  # a suffix alone stands for itself
    assert site("http://127.0.0.1:8000/feed.xml") == "localhost"


#: Fuel prices raised in Egypt today; in Nigeria, in the archive.
FUEL_EG = (
    "مصر ترفع أسعار البنزين والسولار بنسبة 15% اعتبارا من اليوم",
    "قررت لجنة التسعير رفع أسعار البنزين والسولار بنسبة 15% اعتبارا من صباح اليوم.",
)
FUEL_NG = (
    "أسعار البنزين ترتفع في نيجيريا بعد إنهاء الدعم",
    "رفعت شركة النفط الوطنية أسعار البنزين والسولار اعتبارا من صباح اليوم.",
)


def test_an_arabic_report_naming_other_places_is_not_a_related_item() -> None:
    # The two rises share the words of what happened; their headlines name Egypt and
    # Nigeria. An edition has no names step: with `places_apart` (Arabic), one is not
    # the other's related item; without it, it is.
    window = [make_doc(1, FUEL_EG, section="اقتصاد"), make_doc(2, LION), make_doc(3, FILM)]
    corpus_docs = [*window, make_doc(30, FUEL_NG, section="اقتصاد")]

    def related(apart: object) -> list[int]:
        docs = [doc for doc, _ in window]
        found = choose(Corpus(corpus_docs), docs, END, SelectionSettings(), apart=apart)
        return next([m.doc.id for m in c.related] for c in found if c.doc.id == 1)

    assert related(None) == [30]
    assert related(places_apart("ar")) == []
    assert places_apart("en") is None


def test_the_score_parts_shown_add_up_to_the_score_shown() -> None:
    """Each part rounded on its own can miss the rounded score by 0.0001."""
    parts = ScoreParts(
        priority=0.33334, popularity=0.33334, recency=0.33334, coverage=0.0, sources=1
    )
    doc = Doc(1, "g", "Title", "World", "feed.jsonl", datetime(2025, 6, 3, tzinfo=UTC))
    shown = explain(Choice(doc, parts.total, parts=parts))
    assert shown is not None
    total = shown.priority + shown.popularity + shown.recency + shown.coverage
    assert round(total, 4) == round(parts.total, 4) == 1.0
