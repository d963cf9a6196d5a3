"""The King James Bible corpus (Debian's bible-kjv): parsing, preprocessing, splits, and the
error when the package is missing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from nasbench.datasets.kjv import BLOCK, VERSES, KjvDataset, corpus, split_of, verses, words

from nasbench.errors import DataNotFoundError

# What `bible -l100000` prints: headings at the margin (some start with a digit), verses
# indented after their number.
OUTPUT = """
Genesis 1

  1 In the beginning God created the heaven and the earth.
  2 And the earth was without form, and void; and darkness was upon the face of the deep.

1 Kings 3

  1 And Solomon made affinity with Pharaoh king of Egypt, 40 years; it's the LORD'S.
"""


def test_verses_are_the_indented_numbered_lines_and_words_are_mikolov_style() -> None:
    found = verses(OUTPUT)
    assert len(found) == 3 and found[0].startswith("In the beginning")
    assert words(found[2]) == ["and", "solomon", "made", "affinity", "with", "pharaoh", "king",
                               "of", "egypt", "N", "years", "it's", "the", "lord's"]


def test_splits_are_blocks_of_verses_ninety_five_five() -> None:
    splits = [split_of(i) for i in range(VERSES)]
    shares = {s: splits.count(s) / VERSES for s in ("train", "valid", "test")}
    assert shares["train"] == pytest.approx(0.9, abs=0.01)
    assert shares["valid"] == pytest.approx(0.05, abs=0.01)
    assert splits[18 * BLOCK:19 * BLOCK] == ["valid"] * BLOCK
    assert splits[19 * BLOCK:20 * BLOCK] == ["test"] * BLOCK


def test_the_installed_bible_is_a_ten_thousand_word_corpus() -> None:
    streams = corpus()
    assert streams["train"][:10] == ["in", "the", "beginning", "god", "created", "the",
                                     "heaven", "and", "the", "earth"]
    assert sum(s.count("<eos>") for s in streams.values()) == VERSES
    vocab = set(streams["train"])
    assert len(vocab) == 10_000 and "<unk>" in vocab
    assert set(streams["valid"]) <= vocab and set(streams["test"]) <= vocab
    assert streams["valid"].count("<unk>") / len(streams["valid"]) < 0.02
    arrays = KjvDataset().load(None)
    assert arrays.num_classes == 10_000
    assert arrays.x_train.shape[1] == 35 and len(arrays.x_train) > 15 * len(arrays.x_valid)
    np.testing.assert_array_equal(arrays.x_train[0, 1:], arrays.y_train[0, :-1])


def test_without_the_package_the_error_says_what_to_install(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no 'bible' program on this PATH
    with pytest.raises(DataNotFoundError, match="apt-get install bible-kjv"):
        KjvDataset().check(None)
    with pytest.raises(DataNotFoundError, match="apt-get install bible-kjv"):
        KjvDataset().load(None)
