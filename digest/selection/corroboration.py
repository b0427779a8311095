"""Lone reports in an aggregator's window: set aside, not top stories.

In a window most of whose articles several sources report, a report no other source
carries is mostly a big event's stray (UCI News Aggregator, `bench/select_eval.py`): it
would fill a slot with that event a second time. In a publication's window it is an
exclusive and keeps its slot. `uncorroborated` tells the two apart.
"""

from __future__ import annotations

from collections.abc import Sequence

from digest.selection.corpus import Doc
from digest.selection.events import Events

#: Share of the window's articles that several sources report from which an article
#: only its own source reports is not a top story (`uncorroborated`). Chosen on the
#: "tune" half of bench/select_eval.py, where windows hold 93-96% corroborated articles:
#: any value up to 0.92 gives the same figures there; three in four leaves a day of
#: one widely reported story and a few exclusives (3 of 5 corroborated) alone.
CORROBORATED_SHARE = 0.75
#: ... and there, an article reported by fewer sources than this share of the window's
#: best-covered article's is not a top story either (`uncorroborated`). Chosen on the
#: tune half, editions every 2-3 hours, 12-, 24- and 48-hour windows and 8, 12 or 16
#: top stories: every top story that repeated an event had 2-3 sources beside a
#: best-covered 96-120 (0.021-0.031 of it), while the smallest distinct event had 6 of
#: 119 (0.050); 0.04 lies between. Below 50 sources at the top it asks for 2, as before.
THIN_SHARE = 0.04
#: ... and only where several stories are corroborated, or the best-covered one has at
#: least this many sources (an aggregator's scale). One widely reported story beside a
#: few exclusives is a publication's day, not an aggregator's: its lone reports stay.
#: On bench/select_eval.py's tune half, every value from 10 to 50 gives the same figures in
#: every setting (at 60, editions every 2 hours repeat an event 6 times in 386 pairs).
AGGREGATOR_SOURCES = 20
#: Corroborated articles asked, best-covered first, whether they are another event.
EVENT_PROBES = 50


def uncorroborated(docs: Sequence[Doc], sources: Sequence[int], events: Events) -> frozenset[int]:
    """Articles no other source reports, when nearly all the window is reported by several.

    In a window where at least `CORROBORATED_SHARE` of the articles belong to a story
    two or more sources report (an aggregator of many outlets), a report no other outlet
    carries is not yet the news of the day: on real aggregated headlines such leftovers
    are mostly a big event's stray reports whose headlines share no word with it ("The
    wheels on the bus are going around more often" under a transit-ridership story) and
    would fill a slot with that event a second time. The same holds, at an aggregator's
    scale, for a report only a few outlets carry while the day's biggest story has a
    hundred (fewer than `THIN_SHARE` of its sources): the event test finds nothing to
    link it by ("Business update: US network to scan workers with secret clearances", 2
    sources, beside Snowden's talk at SXSW, 109), so it is set aside too: a missed small
    story costs the reader less than an event told twice. A quiet day gives a shorter
    edition instead. Where many articles stand alone (one publication's own feeds,
    whatever their number), or where the corroborated articles all tell one story that
    fewer than `AGGREGATOR_SOURCES` sources report (a widely reported story beside a few
    exclusives), nothing is set aside.
    """
    corroborated = [number for number, count in enumerate(sources) if count >= 2]
    if len(corroborated) < CORROBORATED_SHARE * len(sources) or not sources:
        return frozenset()
    if max(sources) < AGGREGATOR_SOURCES and not _several_events(events, corroborated, sources):
        return frozenset()
    needed = max(2.0, THIN_SHARE * max(sources))
    return frozenset(doc.id for doc, count in zip(docs, sources, strict=True) if count < needed)


def _several_events(events: Events, corroborated: Sequence[int], sources: Sequence[int]) -> bool:
    """Whether the corroborated articles tell more than one event: one of the
    `EVENT_PROBES` next best-covered is not the best-covered one's event."""
    ranked = sorted(corroborated, key=lambda number: (-sources[number], number))
    return any(not events.same_event(ranked[0], other) for other in ranked[1 : EVENT_PROBES + 1])
