"""Events in the window: which articles report the same news, beyond copies of one report.

Two headlines of one event often share a single word ("Fed official says weak data
caused by weather" and "Fed's Plosser sees high bar for change in pace of tapering"):
pairwise similarity finds about a third of same-event pairs on real headlines (UCI News
Aggregator). Comparing with the event's *centroid* finds most of them: an article's
neighbourhood (every window article related to it: similarity at least the related
floor, sharing at least `RELATED_MIN_TERMS` terms) is summed into one vector, which
carries the words all the event's reports use between them. This is relevance
feedback (Rocchio 1971) and the centroid comparison of topic detection and tracking
(Allan et al., "Topic Detection and Tracking Pilot Study", 1998).

Two articles are the same event when they are related, or when either lies within
`EVENT_THRESHOLD` of the other's centroid, or when one's headline names a keyword of the
other's event (and is not more like an article outside that event: `_closer_elsewhere`),
or when at least `NAMING_SHARE` of one's neighbourhood names such a
keyword ("Investors warned about digital currencies" says no "bitcoin", but half the
reports related to it do, and "bitcoin" is a keyword of the Mt Gox story's event). The
last is the keyword test one step out, as relevance feedback expands a query with what
its top documents say. Where one headline names the keyword (the article's own, or
one of two in its neighbourhood), it must be a name or figure in that headline or the
event's (`names.headline_names`), or the article must share more than that word with one
of the event's reports (key terms of their openings): a common word has other senses,
and "Saka double fires Arsenal past Porto" is no report of a warehouse fire. And in a
window most of which several sources report, a report related to nothing (a single
source's) that shares a headline word with the other article is that article's event
when the word is in at least `strays.DOMINANT_SHARE` of the window's articles and is a name
in either headline or in two articles or more outside that event, and the report names
no places the event's headlines do not (`strays.Strays.satellite`): "Why I do not trust
Bitcoin" beside "Bitcoin exchange Mt. Gox files for US bankruptcy" on a day "bitcoin"
is in half the news, the other article's event being big enough to have strays
(`strays.SATELLITE_REPORTS`).
Thresholds were chosen on half of the UCI stories (`bench/select_eval.py`, the "tune"
split) and are reported on the other half.

The neighbourhoods come from `graph.KeyGraph` (every pair at once, over key terms).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import sparse

from digest.selection.graph import KeyGraph
from digest.selection.similarity import RELATED_MIN_TERMS, Vector, cosine, shared_terms
from digest.selection.strays import Strays
from digest.selection.tallies import numbered, report_numbers, sources_per_row, terms_by_reports

#: Similarity to an event's centroid from which an article reports that event.
EVENT_THRESHOLD = 0.25
#: How many of a centroid's heaviest terms name the event.
EVENT_KEYWORDS = 4
#: ... each of them in at least this share of the event's reports.
KEYWORD_SHARE = 0.5
#: Share of an article's neighbourhood naming another event's keyword from which the
#: article reports that event (`Events.naming_share`). On the tune half: 0.34 and 0.4
#: both take same-event top pairs from 1.3% to 0% (0.5: 0.7%); 0.4 is the stricter (it
#: links fewer different-event pairs). `bench/select_eval.py --pairs`, sampled pairs of
#: the tune half: same event found 89.4% -> 93.5%, different events called one 3.04% ->
#: 3.46%.
NAMING_SHARE = 0.4


class Events:
    """Neighbourhoods and event tests over the window's articles (indexes into `vectors`).

    `floor` is the related floor (0..1); `sources` gives each article's source identity,
    so `coverage` can count the distinct sources reporting each article's event;
    `copies` each article's near-duplicate group (`groups.near_duplicate_groups`), so
    that one source's copies of a report count once where reports are counted
    (`keywords`, `report_count`); `title_places` the places each headline names
    (`places.headline_places`), which tell a lone report from a stray (`strays`).
    """

    def __init__(
        self,
        vectors: Sequence[Vector],
        graph: KeyGraph,
        floor: float,
        sources: Sequence[str],
        title_terms: Callable[[int], frozenset[int]],
        title_names: Callable[[int], frozenset[int]] | None = None,
        copies: Sequence[int] | None = None,
        title_places: Callable[[int], frozenset[str]] | None = None,
    ) -> None:
        self.rows = graph.rows
        self._copies = None if copies is None else np.asarray(copies, dtype=np.int64)
        self.ones = self.rows.copy()
        self.ones.data[:] = 1.0
        self._headline_terms = title_terms
        self._title_names = title_names or title_terms
        self._titles: dict[int, frozenset[int]] = {}
        self._names: dict[int, frozenset[int]] = {}
        self.related = graph.pairs(floor, RELATED_MIN_TERMS)
        self._graph = graph
        self._vectors = vectors
        self._floor = floor
        self._queries: dict[int, dict[int, float]] = {}
        self._sources = sources
        self._centroids: dict[int, sparse.csr_matrix] = {}
        self._centroid_weights: dict[int, dict[int, float]] = {}
        self._keywords: dict[int, frozenset[int]] = {}
        self._coverage: list[int] | None = None
        self._codes: np.ndarray | None = None
        self._columns: sparse.csr_matrix | None = None
        self._member_sets: dict[int, frozenset[int]] = {}
        self._member_names: dict[int, frozenset[int]] = {}
        #: The rules for a big event's lone reports (`strays.Strays`).
        self.strays = Strays(self, title_places)

    def headline_names(self, index: int) -> frozenset[int]:
        found = self._names.get(index)
        if found is None:
            found = self._names[index] = self._title_names(index)
        return found

    def title_terms(self, index: int) -> frozenset[int]:
        found = self._titles.get(index)
        if found is None:
            found = self._titles[index] = self._headline_terms(index)
        return found

    def neighbours(self, index: int) -> list[int]:
        """Window articles related to article `index` (itself included), in index order."""
        start, end = self.related.indptr[index], self.related.indptr[index + 1]
        return sorted(int(i) for i in self.related.indices[start:end])

    def related_exactly(self, first: int, second: int) -> bool:
        """Related over all their terms (the neighbourhoods compare key terms only, for
        speed: two reports whose summaries name the event below their headlines' own
        words can be related only over all of them). Asked for the pairs picking meets."""
        query = self._queries.get(first)
        if query is None:
            query = self._queries[first] = self._vectors[first].as_dict()
        vector = self._vectors[second]
        return (
            shared_terms(query, vector) >= RELATED_MIN_TERMS
            and cosine(query, vector) >= self._floor
        )

    def coverage_sources(self) -> list[int]:
        """For each article, how many distinct sources report articles related to it."""
        if self._coverage is None:
            self._coverage = self._count_sources()
        return list(self._coverage)

    def _source_codes(self) -> np.ndarray:
        if self._codes is None:
            self._codes = numbered(self._sources)
        return self._codes

    def _count_sources(self) -> list[int]:
        return sources_per_row(self.related, self._source_codes())

    def _centroid(self, index: int) -> sparse.csr_matrix:
        found = self._centroids.get(index)
        if found is None:
            total = self.related[index] @ self.rows
            norm = float(np.sqrt(total.multiply(total).sum())) or 1.0
            found = self._centroids[index] = total / norm
        return found

    def centroid_similarity(self, event: int, article: int) -> float:
        """Cosine between article `article` and the centroid of `event`'s neighbourhood
        (summed in Python over the article's terms: a sparse product per pair costs a
        millisecond, and picking and related items ask hundreds of pairs)."""
        weights = self._centroid_weights.get(event)
        if weights is None:
            centroid = self._centroid(event)
            weights = dict(zip(centroid.indices.tolist(), centroid.data.tolist(), strict=True))
            self._centroid_weights[event] = weights
        start, end = self.rows.indptr[article], self.rows.indptr[article + 1]
        terms, values = self.rows.indices[start:end].tolist(), self.rows.data[start:end].tolist()
        shared = zip(terms, values, strict=True)
        return sum(weights.get(term, 0.0) * value for term, value in shared)

    def keywords(self, index: int) -> frozenset[int]:
        """The event's names: the `EVENT_KEYWORDS` terms most of the article's neighbourhood
        shares (most members first, then the heavier in the centroid), each in at least
        half of it. Counting members, not weights: the name every report of a big event
        repeats is common in that day's news, so its weight is low, but it is in every
        report. An event of two reports takes only words both *headlines* say: any two
        texts share words, and one that each says only below its headline ("a record
        for the most wins", "counting ends") is no name of theirs. A breaker's day of
        two-report events lost the Grammys and a Pope's visit into an election story:
        both Grammy reports said "win" (one below its headline) as the election's
        headline did, and both election reports' summaries said "ends" as the Pope's
        headline did. On headlines alone (`bench/select_eval.py`) nothing changes. One
        source's copies of a report count once (`tallies.report_numbers`): an outlet
        that posted a story three times made its every word a keyword, which took in an
        unrelated lone story sharing one ("record", جديدا "new") as a second source (a
        breaker pass)."""
        found = self._keywords.get(index)
        if found is None:
            reports, members = terms_by_reports(*self._reports(index), self.ones)
            centroid = self._centroid(index)
            weight = dict(zip(centroid.indices.tolist(), centroid.data.tolist(), strict=True))
            needed = max(2.0, reports * KEYWORD_SHARE)
            ranked = sorted(
                members.items(), key=lambda pair: (-pair[1], -weight.get(pair[0], 0.0), pair[0])
            )
            if self.related[index].nnz == 2:
                first, second = (self.title_terms(n) for n in self.neighbours(index))
                ranked = [pair for pair in ranked if pair[0] in first and pair[0] in second]
            found = frozenset(term for term, count in ranked[:EVENT_KEYWORDS] if count >= needed)
            self._keywords[index] = found
        return found

    def _reports(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The article's neighbourhood (indexes) and each one's `tallies.report_numbers`."""
        start, end = self.related.indptr[index], self.related.indptr[index + 1]
        neighbours = self.related.indices[start:end]
        return neighbours, report_numbers(neighbours, self._source_codes(), self._copies)

    def report_count(self, index: int) -> int:
        """How many distinct reports the article's neighbourhood holds (one source's
        copies of a report are one, `tallies.report_numbers`)."""
        return len(np.unique(self._reports(index)[1]))

    def _names_keyword(self, event: int, article: int) -> bool:
        """Whether `article`'s headline names a keyword of `event`'s event, as a name or
        with more of the event's words (`_names_as_name`), and it is not more like
        another window article than like any of that event's reports. One common word
        is no name: a breaker's thin Arabic day grouped UN aid reaching northern Gaza
        (شمال غزة) into an earthquake in northern Chile, the word both of the quake's
        headlines said, and an English one grouped a hotel fire "in northern Portugal"
        into the Gaza aid story; both events were lost from their editions. On the
        labelled week the reports grouped under another event fell from 8 of 58 to 7
        of 57; UCI's editions, sampled pairs and thin windows did not change."""
        if not self.keywords(event) & self.title_terms(article):
            return False
        if not self._names_as_name(article, event):
            return False
        return not self._closer_elsewhere(article, event)

    def _closer_elsewhere(self, article: int, event: int) -> bool:
        """Whether `article` is more similar (over key terms, `graph.KeyGraph`) to a window
        article outside `event`'s neighbourhood, sharing `RELATED_MIN_TERMS` key terms
        with it, than to any article inside it. One headline word is weak evidence where
        it has another sense ("Tsunami warning after powerful quake strikes central
        Japan" names "strike", the keyword of a doctors' strike): a report is of the
        event whose reports it shares most with. (The graph's rows are kept for this: a
        product per report asked took a third more time on the bench's day, keeping
        them 16 MB more memory.)"""
        similar, shared = self._graph.similar, self._graph.shared
        start, end = similar.indptr[article], similar.indptr[article + 1]
        others, values = similar.indices[start:end], similar.data[start:end]
        not_itself = others != article
        member = np.isin(others, self.neighbours(event))
        inside = values[member & not_itself].max(initial=0.0)
        keyed = shared.data[start:end] >= RELATED_MIN_TERMS
        outside = values[~member & not_itself & keyed].max(initial=0.0)
        return bool(outside > inside)

    def naming_share(self, article: int, event: int) -> float:
        """The share of `article`'s neighbourhood (itself included) whose headlines name
        a keyword of `event`'s event; 0.0 for an article related to nothing else, or
        where a single headline names it, not as a name and with no other word of the
        event's (`_names_as_name`). A breaker's week of two-report events lost a
        nightclub fire into a football match ("Fernandes hat-trick fires Manchester
        United ...") and a Gaza truce's collapse into an earthquake's (انهيار, buildings'
        collapse): reports of another event grouped into a story fell from 15 of 64 to
        8 of 58, and UCI's editions and thin windows (`bench/select_eval.py`) and the
        Arabic days did not change."""
        members = self.neighbours(article)
        names = self.keywords(event)
        if len(members) < 2 or not names:
            return 0.0
        naming = [member for member in members if names & self.title_terms(member)]
        if len(naming) == 1 and not self._names_as_name(naming[0], event):
            return 0.0
        return len(naming) / len(members)

    def _names_as_name(self, article: int, event: int) -> bool:
        """Whether `article`'s headline names a keyword of `event`'s event that its own
        headline or one of that event's writes as a name or figure
        (`names.headline_names`), or `article` shares `RELATED_MIN_TERMS` key terms of
        its opening with one of that event's reports (`graph.KeyGraph.shared`): more
        than one common word. (Headline words alone for the second: a breaker's days
        split four events told in synonyms, "temperatures" their one common headline
        word; openings rejoined one.)"""
        named = self.keywords(event) & self.title_terms(article)
        if named & self.headline_names(article) or named & self._names_of_members(event):
            return True
        shared = self._graph.shared
        start, end = shared.indptr[article], shared.indptr[article + 1]
        sharing = shared.indices[start:end][shared.data[start:end] >= RELATED_MIN_TERMS]
        return not self._members(event).isdisjoint(sharing.tolist())

    def _members(self, event: int) -> frozenset[int]:
        found = self._member_sets.get(event)
        if found is None:
            found = self._member_sets[event] = frozenset(self.neighbours(event))
        return found

    def _names_of_members(self, event: int) -> frozenset[int]:
        """Every name or figure the headlines of `event`'s neighbourhood write (asked for
        hundreds of articles of one big event: gathered once)."""
        found = self._member_names.get(event)
        if found is None:
            names = (self.headline_names(member) for member in self.neighbours(event))
            found = self._member_names[event] = frozenset().union(*names)
        return found

    def reports(self, event: int, article: int) -> bool:
        """Whether `article` reports `event`'s event, judged from that event's side only:
        related to it, naming its keyword in the headline, within `EVENT_THRESHOLD` of its
        centroid, or most of its neighbourhood naming that keyword. The half of
        `same_event` that needs nothing of the article's own event, so it stays cheap
        for many articles against a few events."""
        if self.related[event, article]:
            return True
        if self._names_keyword(event, article):
            return True
        if self.naming_share(article, event) >= NAMING_SHARE:
            return True
        return self.centroid_similarity(event, article) >= EVENT_THRESHOLD

    def reports_among(self, event: int, articles: Sequence[int]) -> list[int]:
        """The articles of `articles` that report `event`'s event: related to it, within
        `EVENT_THRESHOLD` of its centroid, naming its keyword in the headline, or (a
        report no other source carries, `Strays.lone_reports`) its `Strays.satellite`; asked of all
        at once. Terms the event could be named by are looked up in one sparse slice
        first, so an aggregator's thousands of lone reports cost milliseconds."""
        if not articles:
            return []
        rows = np.asarray(articles, dtype=np.int64)
        columns = self._term_columns()
        near = (self._centroid(event) @ columns).toarray().ravel()[rows]
        found = set(rows[np.flatnonzero(near >= EVENT_THRESHOLD)].tolist())
        neighbours = set(self.neighbours(event))
        found |= neighbours.intersection(articles)
        keywords = self.keywords(event)
        strays = self.strays
        shared = (
            self.title_terms(event) & strays.dominant_terms() if strays.big(event) else frozenset()
        )
        named = sorted(keywords | shared)
        if named:
            naming = np.zeros(len(self._vectors), dtype=bool)
            for term in named:
                naming[columns.indices[columns.indptr[term] : columns.indptr[term + 1]]] = True
            for number in rows[np.flatnonzero(naming[rows])].tolist():
                titles = self.title_terms(number)
                keyword = (
                    keywords & titles
                    and self._names_as_name(number, event)
                    and not self._closer_elsewhere(number, event)
                )
                lone = self.strays.lone_reports()[number]
                if keyword or (lone and self.strays.stray_words(event, number, shared & titles)):
                    found.add(number)
        return sorted(found)

    def _term_columns(self) -> sparse.csr_matrix:
        """`rows` transposed (terms x articles): a centroid's product with every article
        at once, and each term's articles, where slicing the rows asked for took a
        millisecond per event (the sums are the same: each article's adds the
        centroid's terms in the centroid's order either way)."""
        if self._columns is None:
            self._columns = self.rows.T.tocsr()
        return self._columns

    def same_event(self, first: int, second: int) -> bool:
        """Whether the two articles report one event: related, near either centroid, one
        names the other's event keyword in its headline, or most of one's neighbourhood
        does (`naming_share`), or one is the other's lone stray report (`Strays.satellite`)."""
        if self.related[first, second]:
            return True
        if self._names_keyword(first, second) or self._names_keyword(second, first):
            return True
        if self.naming_share(first, second) >= NAMING_SHARE:
            return True
        if self.naming_share(second, first) >= NAMING_SHARE:
            return True
        if self.strays.satellite(first, second) or self.strays.satellite(second, first):
            return True
        return (
            self.centroid_similarity(first, second) >= EVENT_THRESHOLD
            or self.centroid_similarity(second, first) >= EVENT_THRESHOLD
        )
