"""Per-recipient speed must not change a byte of meaning: encodings and tokens."""

from __future__ import annotations

import base64
import quopri

from hypothesis import given, settings
from hypothesis import strategies as st

from digest.mime_parts import EncodedBody
from subscribers.tokens import TokenMaker, make_token, read_token

TEXT = st.text(alphabet=st.sampled_from(list('ab =.\t\nxé ليلى<>&"')), max_size=300)


@settings(max_examples=300, deadline=None)
@given(segments=st.lists(TEXT, min_size=1, max_size=4), data=st.data())
def test_encoded_bodies_decode_to_the_substituted_text(segments: list[str], data: object) -> None:
    values = [data.draw(TEXT) for _ in segments[1:]]  # type: ignore[attr-defined]
    body = EncodedBody([segment.encode() for segment in segments])
    encoded = body.encode([value.encode() for value in values])
    expected = "".join(a + b for a, b in zip(segments, [*values, ""], strict=True)).encode()
    lines = encoded.split(b"\r\n")
    assert all(len(line) <= 76 and b"\n" not in line and b"\r" not in line for line in lines)
    if body.base64:
        assert base64.b64decode(b"".join(lines), validate=True) == expected
    else:
        assert quopri.decodestring(b"\n".join(lines)) == expected


@settings(max_examples=200, deadline=None)
@given(
    subscriber_id=st.integers(min_value=1, max_value=10**9),
    email=st.emails(),
    key=st.text(min_size=1, max_size=60),
    list_id=st.from_regex(r"[a-z]{1,10}\.[a-z]{2,8}", fullmatch=True),
)
def test_the_fast_token_is_the_same_token(
    subscriber_id: int, email: str, key: str, list_id: str
) -> None:
    token = TokenMaker(key, list_id)(subscriber_id, email)
    assert token == make_token(key, subscriber_id, list_id, email)
    claim = read_token(key, token, list_id)
    assert claim.subscriber_id == subscriber_id and claim.matches(key, email)
