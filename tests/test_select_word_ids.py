"""Word numbers: ingest gives each distinct word of the term cache one number
(`models.Word`, `selection.cache.word_ids`) and stores a row's numbers beside its words;
a selection numbers its words from them (`batch_vectors._numbered`). The numbers exist
for speed only: the vectors must be the ones the words alone give, a word must keep one
number whoever stores it, and a feed's longest word must be stored."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select, text

from digest.db import Database
from digest.ingest.records import ArticleRecord
from digest.ingest.store import store_records
from digest.models import Word
from digest.selection import cache, store
from digest.selection.batch_vectors import vectors_of, vectors_with
from digest.selection.cache import word_ids, word_key, write_terms
from digest.selection.similarity import Vocabulary, matching_text
from digest.selection.text import PackedWords, pack, word_counts
from tests.test_select_vectors import _documents

END = datetime(2025, 3, 10, 6, 0, tzinfo=UTC)


def _numbered(packed: list[PackedWords], seed: int, offset: int = 0) -> list[PackedWords]:
    """`packed` with numbers as a long-lived `Word` table gives them: in no order the
    documents know of, with gaps (words of articles since deleted); all past `offset`
    (a number sequence that jumped)."""
    rng = random.Random(seed)
    distinct = sorted({word for each in packed for word in each.words.split(" ") if word})
    numbers = rng.sample(range(offset + 1, offset + 50 * len(distinct) + 2), len(distinct))
    number_of = dict(zip(distinct, numbers, strict=True))
    return [
        each._replace(
            ids=np.array(
                [number_of[word] for word in each.words.split(" ") if word], dtype="<u4"
            ).tobytes()
        )
        for each in packed
    ]


def test_stored_numbers_give_the_vectors_and_terms_the_words_give() -> None:
    for seed in range(6):
        packed = [
            pack(each) for each in word_counts([matching_text(*d) for d in _documents(250, seed)])
        ]
        from_words, from_numbers = Vocabulary(), Vocabulary()
        expected, weighting = vectors_of(from_words, packed)
        found, numbered_weighting = vectors_of(from_numbers, _numbered(packed, seed))
        assert list(found) == list(expected)
        assert from_numbers._word_terms == from_words._word_terms  # same ids, same order
        assert numbered_weighting._idf == weighting._idf
        outside = [pack(each) for each in word_counts(["Derna flood toll rises", "a quake"])]
        assert list(vectors_with(from_numbers, weighting, _numbered(outside, seed))) == list(
            vectors_with(from_words, weighting, outside)
        )


def test_numbers_far_past_the_words_read_give_the_same_vectors() -> None:
    packed = [pack(each) for each in word_counts([matching_text(*d) for d in _documents(80, 4)])]
    expected, _ = vectors_of(Vocabulary(), packed)
    found, _ = vectors_of(Vocabulary(), _numbered(packed, 4, offset=4_000_000_000))
    assert list(found) == list(expected)


def test_documents_without_numbers_or_with_numbers_that_do_not_fit_are_read_by_word() -> None:
    packed = [pack(each) for each in word_counts([matching_text(*d) for d in _documents(120, 3)])]
    expected, _ = vectors_of(Vocabulary(), packed)
    numbered = _numbered(packed, 3)
    some = [each if n % 3 else each._replace(ids=None) for n, each in enumerate(numbered)]
    short = [each._replace(ids=each.ids[:-4]) if each.ids else each for each in numbered]
    # A document short of its last number, the next with one too many: the total is
    # right, and from the first on, each word would take its neighbour's number.
    moved = list(numbered)
    at = next(n for n in range(1, len(moved)) if moved[n - 1].ids and moved[n].ids)
    moved[at - 1] = moved[at - 1]._replace(ids=moved[at - 1].ids[:-4])
    moved[at] = moved[at]._replace(ids=moved[at].ids + moved[at].ids[-4:])
    for documents in (some, short, moved):
        found, _ = vectors_of(Vocabulary(), documents)
        assert list(found) == list(expected)


def _record(guid: str, title: str, body: str, hours: float = 1) -> ArticleRecord:
    return ArticleRecord(
        guid=guid,
        url=f"https://news.example/{guid}",
        title=title,
        summary="",
        body=body,
        section="World",
        language="en",
        published_at=END - timedelta(hours=hours),
        source="https://wire.example/rss",
    )


def _stored(db: Database) -> dict[str, PackedWords]:
    with db.session() as session:
        return {
            doc.guid: text
            for doc, text in store.window_docs(session, "en", END - timedelta(days=1), END)
            if isinstance(text, PackedWords)
        }


def test_ingest_gives_each_word_one_number_and_stores_it_beside_the_word(
    database_url: str,
) -> None:
    db = Database(database_url)
    db.upgrade()
    huge = "\u0628" * 2_000  # a feed's "word": its first 320 characters are read
    with db.session() as session:
        store_records(
            session,
            [
                _record("a", "Derna flood toll rises", f"{huge} Rescuers in Derna count the dead"),
                _record("b", "Libya flood: dams failed", "Two dams above Derna failed", 2),
            ],
            END,
            write_terms,
        )
    with db.session() as session:  # a later ingest, in another transaction
        store_records(
            session,
            [_record("c", "Derna dams inquiry", "Prosecutors blame dams", 3)],
            END,
            write_terms,
        )
    rows = _stored(db)
    assert set(rows) == {"a", "b", "c"}
    with db.session() as session:
        table = {key: number for key, number in session.execute(select(Word.key, Word.id))}
    seen: dict[str, int] = {}
    for packed in rows.values():
        words = packed.words.split(" ")
        assert packed.ids is not None
        numbers = np.frombuffer(packed.ids, dtype="<u4").tolist()
        assert len(numbers) == len(words)
        for word, number in zip(words, numbers, strict=True):
            assert table[word_key(word)] == number
            assert seen.setdefault(word, number) == number  # one word, one number
    assert max(map(len, seen)) >= 300 and "derna" in seen and "dams" in seen
    assert len(set(seen.values())) == len(seen)  # two words, two numbers
    with db.session() as session:  # numbering known words again adds none
        assert word_ids(session, ["derna", "dams"]) == {w: seen[w] for w in ("derna", "dams")}
        assert session.scalar(select(Word.id).order_by(Word.id.desc()).limit(1)) == max(
            table.values()
        )
    db.dispose()


@pytest.mark.postgres_only("SQLite has one writer at a time: no two ingests number at once")
def test_two_open_ingests_numbering_overlapping_words_never_wait_on_each_other(
    postgres_url: str,
) -> None:
    """Each transaction numbers words batch by batch and stays open, as ingest's does;
    the second batches cross (each asks for words the other numbered first). Numbered
    inside the transactions, each would wait for the other's uncommitted keys (a
    deadlock): a lock wait here fails at once (lock_timeout), and both get one number
    per word."""
    db = Database(postgres_url)
    db.upgrade()
    first_batch = [f"alpha{n}" for n in range(200)]
    second_batch = [f"omega{n}" for n in range(200)]
    with db.session() as one, db.session() as other:
        for session in (one, other):
            session.execute(text("SET LOCAL lock_timeout = '1s'"))
        a = word_ids(one, first_batch)
        b = word_ids(other, second_batch)
        a.update(word_ids(one, [*second_batch[:50], "tsunami"]))
        b.update(word_ids(other, [*first_batch[:50], "tsunami"]))
        assert all(a[word] == b[word] for word in [*first_batch[:50], *second_batch[:50]])
        assert a["tsunami"] == b["tsunami"]
    with db.session() as session:
        keys = session.scalars(select(Word.key)).all()
        assert len(keys) == len(set(keys)) == len(first_batch) + len(second_batch) + 1
    db.dispose()


def test_a_word_numbered_by_another_ingest_between_the_read_and_the_insert_keeps_its_number(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race ON CONFLICT DO NOTHING is for: the first read misses a word another
    ingest numbers just after; the insert must not fail, and the number read again is
    the other's."""
    db = Database(database_url)
    db.upgrade()
    with db.session() as session:
        before = word_ids(session, ["tsunami"])
    real = cache._numbers
    calls: list[int] = []

    def first_read_misses(connection: Any, keys: list[str]) -> list[tuple[str, int]]:
        calls.append(len(keys))
        return [] if len(calls) == 1 else real(connection, keys)

    monkeypatch.setattr(cache, "_numbers", first_read_misses)
    with db.session() as session:
        assert word_ids(session, ["tsunami"]) == before
    assert len(calls) == 2
    with db.session() as session:
        assert session.scalars(select(Word.key)).all() == [word_key("tsunami")]
    db.dispose()
