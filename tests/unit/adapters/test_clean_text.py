"""Text the API takes: no control characters and no lone surrogates, and nothing else refused."""

from __future__ import annotations

import sys
import unicodedata

from cbp.adapters.falcon.schemas import is_clean_text


def test_exactly_the_control_characters_and_surrogates_are_refused() -> None:
    refused = {cp for cp in range(sys.maxunicode + 1) if not is_clean_text(chr(cp))}
    unclean = {
        cp for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)) in ("Cc", "Cs")
    }
    assert refused == unclean


def test_one_unclean_character_anywhere_refuses_the_text() -> None:
    assert is_clean_text("Café 中文 ü-42")
    assert not is_clean_text("Acme\x00Bank")
    assert not is_clean_text("line\nbreak")
    assert not is_clean_text("lone \ud800 half")
