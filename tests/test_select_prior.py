"""Word frequencies of the language at large: what a handful of texts' weights start from."""

from __future__ import annotations

from collections import Counter

from digest.selection.prior import PRIOR_DOCUMENTS, document_shares, knows
from digest.selection.similarity import TermCounts, Weighting


def test_the_languages_with_word_lists_are_known_by_any_tag() -> None:
    assert knows("en") and knows("en-GB") and knows("ar") and knows("ar_EG")
    assert not knows("cy")
    assert document_shares("cy", {"said": 0}) == {}


def test_a_common_word_is_in_more_texts_than_a_rare_one() -> None:
    shares = document_shares("en", {"said": 0, "earthquake": 1, "marrowby": 2})
    assert shares[0] > shares[1] > 0.0
    assert 2 not in shares  # never seen: left for the caller to take as rare
    assert all(0.0 < share < 1.0 for share in shares.values())


def test_the_words_of_one_stem_add_up() -> None:
    alone = document_shares("en", {"earthquake": 0})[0]
    both = document_shares("en", {"earthquake": 0, "earthquakes": 0})[0]
    assert both > alone


def test_arabic_words_are_found_as_text_words_spells_them() -> None:
    # text.words writes ة as ه and hamza seats as bare alef; the lists write them out.
    assert document_shares("ar", {"الحكومه": 0, "اعلنت": 1}).keys() == {0, 1}


def test_a_prior_makes_a_common_word_both_texts_share_weigh_less_than_a_rare_one() -> None:
    both = [TermCounts((0, 1), (1, 1)), TermCounts((0, 1), (1, 1))]
    alone = Weighting(both).vector(both[0]).as_dict()
    assert alone[0] == alone[1]
    weighed = Weighting(both, prior={0: 0.9, 1: 0.001}, prior_documents=PRIOR_DOCUMENTS).vector(
        both[0]
    )
    weights = weighed.as_dict()
    assert weights[1] > 2 * weights[0]
    assert Counter(weighed.ids) == Counter({0: 1, 1: 1})
