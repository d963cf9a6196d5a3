"""Penn Treebank language modelling (Mikolov et al.'s version), from a local copy.

Read from the three standard files ``ptb.train.txt``, ``ptb.valid.txt`` and ``ptb.test.txt``
(``simple-examples/data`` of Mikolov's release: 10,000-word vocabulary, one sentence per line,
rare words already ``<unk>``) in ``<data dir>/ptb/``. Every line ends with an ``<eos>`` token
and the vocabulary is the training file's, in order of first appearance, as in the usual
PyTorch and ENAS/DARTS data loaders.

The task is language modelling: each file's token stream is cut into consecutive,
non-overlapping windows of ``CONTEXT`` tokens (the BPTT length of ENAS and DARTS); an example
is a window of token ids ``(CONTEXT,)`` and its labels are the same window shifted by one
token, so every token of a file is predicted exactly once. A network reads the window from a
fresh hidden state, so its perplexity is a proxy for, not equal to, the perplexity the ENAS
paper reports (hidden state carried across windows).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from nasbench.api import DataKind, Dataset, DatasetArrays
from nasbench.errors import DataNotFoundError
from nasbench.hookspecs import hookimpl

SUBDIR = "ptb"
SPLITS = ("train", "valid", "test")
CONTEXT = 35
"""Words of context per example (ENAS's and DARTS's BPTT length)."""
EOS = "<eos>"


def tokens(path: Path) -> list[str]:
    """The words of a PTB file, each line closed by ``<eos>``."""
    out: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            out.extend(line.split())
            out.append(EOS)
    return out


def windows(ids: Any, context: int) -> tuple[Any, Any]:
    """Consecutive non-overlapping windows of ``context`` ids, and each window shifted by one
    (the next token at every position)."""
    n = (len(ids) - 1) // context
    x = ids[: n * context].reshape(n, context)
    y = ids[1 : n * context + 1].reshape(n, context)
    return x, y


def word_arrays(words: dict[str, list[str]], vocab: dict[str, int]) -> DatasetArrays:
    """The windows of every split's words as ids of ``vocab`` (which holds every word)."""
    import numpy as np

    arrays: dict[str, Any] = {}
    for split, ws in words.items():
        ids = np.fromiter((vocab[w] for w in ws), dtype=np.int64, count=len(ws))
        arrays[f"x_{split}"], arrays[f"y_{split}"] = windows(ids, CONTEXT)
    return DatasetArrays(**arrays, num_classes=len(vocab))


class PtbDataset(Dataset):
    name: ClassVar[str] = "ptb"
    summary: ClassVar[str] = (
        f"Penn Treebank from a local copy: language modelling on {CONTEXT}-word windows"
    )
    data_kind: ClassVar[DataKind] = "sequence"
    input_shape: ClassVar[tuple[int, ...]] = (CONTEXT,)
    num_classes: ClassVar[int] = 10_000
    task: ClassVar[Literal["classification", "language_model"]] = "language_model"
    citation: ClassVar[str] = (
        "Marcus, Marcinkiewicz & Santorini, Building a large annotated corpus of English: the "
        "Penn Treebank, Computational Linguistics (1993); preprocessing of Mikolov et al., "
        "Recurrent neural network based language model, Interspeech (2010)"
    )
    slow_to_load: ClassVar[bool] = True

    def files(self, data_dir: Path | None) -> dict[str, Path]:
        """The three files.

        Raises:
            DataNotFoundError: saying where they were looked for and how to provide them.
        """
        how = (
            "Put ptb.train.txt, ptb.valid.txt and ptb.test.txt (simple-examples/data of "
            "Mikolov's simple-examples.tgz) in <data dir>/ptb/ and set [study] data_dir or "
            "$NASBENCH_DATA to the data directory."
        )
        if data_dir is None:
            raise DataNotFoundError(
                f"Penn Treebank is read from <data dir>/{SUBDIR}/, and no data directory is "
                "set. " + how
            )
        paths = {split: data_dir / SUBDIR / f"ptb.{split}.txt" for split in SPLITS}
        missing = [p.name for p in paths.values() if not p.is_file()]
        if missing:
            raise DataNotFoundError(
                f"Penn Treebank is not in {data_dir / SUBDIR} (missing {', '.join(missing)}). "
                + how
            )
        return paths

    def check(self, data_dir: Path | None) -> None:
        self.files(data_dir)

    def load(self, data_dir: Path | None) -> DatasetArrays:
        words = {split: tokens(path) for split, path in self.files(data_dir).items()}
        vocab = {w: i for i, w in enumerate(dict.fromkeys(words["train"]))}
        for split, ws in words.items():
            unknown = sorted({w for w in ws if w not in vocab})
            if unknown:
                raise DataNotFoundError(
                    f"ptb.{split}.txt holds words that ptb.train.txt never uses "
                    f"({', '.join(unknown[:5])}{', ...' if len(unknown) > 5 else ''}); the "
                    "standard files share one vocabulary. Check the files are Mikolov's."
                )
        return word_arrays(words, vocab)


@hookimpl
def nasbench_register_datasets(registry: Any) -> None:
    registry.add(PtbDataset)
