"""The King James Bible as a word-level language-modelling corpus, from Debian's package.

A corpus that is on the machine when Penn Treebank is not: Debian's ``bible-kjv`` package
(with ``bible-kjv-text``) installs the text of the King James Version (1611; its copyright has
expired, says the package's copyright file) and the ``bible`` program that prints it. The
text is read by running ``bible`` once over the whole book (31,102 verses, about 790,000
words); nothing is downloaded.

Preprocessed as Mikolov et al. preprocessed Penn Treebank: lower case, punctuation removed
(words keep inner apostrophes), numerals as ``N``, one verse per line closed by ``<eos>``, and a
vocabulary of the ``VOCAB - 1`` most frequent training words (ties: first appearance) plus
``<unk>`` for the rest. Splits are deterministic and spread over the whole book: verses are
cut into consecutive blocks of ``BLOCK`` verses, and of every 20 blocks the 19th is validation,
the 20th test, the rest training (90/5/5). Examples are 35-token windows as for ``ptb``
(:func:`nasbench.datasets.ptb.windows`).

The corpus is not Penn Treebank: archaic English with a small vocabulary (about 12,600
distinct words before the cut) and long, formulaic verses; perplexities are not comparable
with published PTB numbers.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar, Literal

from nasbench.datasets.ptb import CONTEXT, EOS, word_arrays

from nasbench.api import DataKind, Dataset, DatasetArrays
from nasbench.errors import DataNotFoundError
from nasbench.hookspecs import hookimpl

PROGRAM = "bible"
"""The program of Debian's ``bible-kjv`` package that prints the text."""
WHOLE_BOOK = "gen1:1-rev22:21"
VERSES = 31_102
VOCAB = 10_000
"""Vocabulary size, ``<unk>`` included (Penn Treebank's)."""
BLOCK = 50
"""Verses per block of the split."""
UNK = "<unk>"
_VERSE = re.compile(r"^\s+\d+ (.*)$")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*|\d+")
HOW = ("Install Debian's King James Bible: apt-get install bible-kjv (it brings "
       "bible-kjv-text); or use 'ptb' with your own Penn Treebank copy.")


def verses(text: str) -> list[str]:
    """The verses of ``bible``'s output (one per line at a wide enough line width)."""
    return [m.group(1) for line in text.splitlines() if (m := _VERSE.match(line))]


def words(verse: str) -> list[str]:
    """A verse's words, Mikolov-style: lower case, no punctuation, numerals as ``N``."""
    return ["N" if w.isdigit() else w for w in _WORD.findall(verse.lower())]


def split_of(index: int) -> str:
    """The split of verse ``index`` (from 0)."""
    block = (index // BLOCK) % 20
    return "valid" if block == 18 else "test" if block == 19 else "train"


def read_text() -> str:
    """The whole book as ``bible`` prints it.

    Raises:
        DataNotFoundError: when the program or its text is not installed.
    """
    program = shutil.which(PROGRAM)
    if program is None:
        raise DataNotFoundError(f"the King James Bible corpus needs the '{PROGRAM}' program, "
                                "which is not installed. " + HOW)
    done = subprocess.run([program, "-l100000", WHOLE_BOOK], capture_output=True, text=True,
                          check=False, timeout=120)
    if done.returncode != 0 or not done.stdout.strip():
        raise DataNotFoundError(f"'{program}' did not print the text (exit {done.returncode}: "
                                f"{done.stderr.strip()[:200]}). " + HOW)
    return done.stdout


def corpus() -> dict[str, list[str]]:
    """Each split's token stream, every verse closed by ``<eos>``, rare words ``<unk>``.

    Raises:
        DataNotFoundError: when the text is missing or not the whole book.
    """
    found = verses(read_text())
    if len(found) != VERSES:
        raise DataNotFoundError(f"'{PROGRAM}' printed {len(found)} verses, not the "
                                f"{VERSES:,} of the King James Version. " + HOW)
    streams: dict[str, list[str]] = {"train": [], "valid": [], "test": []}
    for i, verse in enumerate(found):
        streams[split_of(i)] += [*words(verse), EOS]
    counts = Counter(streams["train"])
    first = {w: i for i, w in reversed(list(enumerate(streams["train"])))}
    kept = sorted(counts, key=lambda w: (-counts[w], first[w]))[:VOCAB - 1]
    vocab = set(kept)
    return {split: [w if w in vocab else UNK for w in ws] for split, ws in streams.items()}


class KjvDataset(Dataset):
    name: ClassVar[str] = "kjv"
    summary: ClassVar[str] = (
        f"King James Bible (Debian's bible-kjv): language modelling on {CONTEXT}-word windows"
    )
    data_kind: ClassVar[DataKind] = "sequence"
    input_shape: ClassVar[tuple[int, ...]] = (CONTEXT,)
    num_classes: ClassVar[int] = VOCAB
    task: ClassVar[Literal["classification", "language_model"]] = "language_model"
    citation: ClassVar[str] = (
        "The Holy Bible, Authorized (King James) Version, 1611, as packaged by Debian "
        "(bible-kjv-text; Chip Chapin's Bible Retrieval System); preprocessing after Mikolov "
        "et al., Interspeech (2010)"
    )
    slow_to_load: ClassVar[bool] = True

    def check(self, data_dir: Path | None) -> None:
        if shutil.which(PROGRAM) is None:
            raise DataNotFoundError(f"the King James Bible corpus needs the '{PROGRAM}' "
                                    "program, which is not installed. " + HOW)

    def load(self, data_dir: Path | None) -> DatasetArrays:
        streams = corpus()
        vocab = {w: i for i, w in enumerate(dict.fromkeys(streams["train"]))}
        for w in dict.fromkeys(streams["valid"] + streams["test"]):
            vocab.setdefault(w, len(vocab))  # only <unk> can be new here
        return word_arrays(streams, vocab)


@hookimpl
def nasbench_register_datasets(registry: Any) -> None:
    registry.add(KjvDataset)
