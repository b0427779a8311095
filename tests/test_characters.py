"""One rule for what is text, in ingest, render and headers."""

from __future__ import annotations

import pytest

from digest.characters import one_line, remove_not_text
from digest.ingest.clean import plain_text
from digest.message import clean_header_text
from digest.render.plain import clean_line

SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"


@pytest.mark.parametrize("clean", [one_line, plain_text, clean_header_text, clean_line])
def test_a_flag_tag_sequence_stays_and_a_stray_tag_goes(clean) -> None:
    assert clean(f"Cup final {SCOTLAND} tonight") == f"Cup final {SCOTLAND} tonight"
    assert clean("Stray\U000e0020 tag \U000e0041here") == "Stray tag here"
    assert clean("\U000e0020") == ""


@pytest.mark.parametrize("clean", [one_line, plain_text, clean_header_text, clean_line])
def test_new_emoji_and_joiners_stay_controls_become_spaces(clean) -> None:
    assert clean("Pink \U0001fa77 heart") == "Pink \U0001fa77 heart"
    assert clean("می\u200cخواهم") == "می\u200cخواهم"
    assert clean("Null\x00byte\u202eflip") == "Null byteflip"


def test_a_body_keeps_its_tabs_and_newlines() -> None:
    assert remove_not_text("a\tb\nc\x00d\U000e0020", keep="\t\n") == "a\tb\ncd"
