"""The controller-embedding study end to end at a small size: NAS-Bench-Graph's table (shipped
in its wheel) and ENAS's recurrent cells on a corpus generated here in Penn Treebank's format,
or, without one, on the King James Bible of Debian's bible-kjv package."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch
from nasbench.results.controller_study import (
    CONTROLLERS,
    SIMILARITIES,
    similarities,
    small_config,
)
from nasbench.results.correlation import CorrelationOptions
from nasbench.results.stats import BootstrapOptions
from nasbench.results.studies import STUDIES
from nasbench.spaces.nb201 import Nb201Space


def _corpus(root: Path) -> Path:
    """Three files of sentences from a 40-word first-order chain, as ptb.*.txt."""
    rng = random.Random(0)
    words = [f"w{i}" for i in range(40)]
    (root / "ptb").mkdir(parents=True)
    for split, n in (("train", 1500), ("valid", 400), ("test", 100)):
        lines = []
        for _ in range(n):
            k = rng.randrange(40)
            sentence = []
            for _ in range(rng.randint(4, 9)):
                sentence.append(words[k])
                k = (7 * k + rng.randint(0, 2)) % 40
            lines.append(" ".join(sentence))
        (root / "ptb" / f"ptb.{split}.txt").write_text("\n".join(lines) + "\n")
    return root


def test_similarities_count_ops_connections_and_edits() -> None:
    space = Nb201Space()
    a, b = (0, 1, 2, 3, 4, 3), (0, 1, 2, 0, 4, 1)
    s = similarities(space, a, b)
    assert s == {"ops in common": 4.0, "connections in common": 4.0, "-edit distance": -2.0}


def test_the_study_runs_small_and_reports_every_controller(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    study = STUDIES["controller-embedding"]
    assert study.trains  # 'correlate --study all' leaves it out
    from nasbench.results.controller_study import controller_embedding

    options = CorrelationOptions(bootstrap=BootstrapOptions(resamples=30))
    output = controller_embedding(_corpus(tmp_path), options, small_config(),
                                  figures=tmp_path / "figures")
    sections = [section for section, _ in output.correlations]
    names = [f"tabular: {c}" for c in CONTROLLERS] + ["rnn: ENAS untrained", "rnn: ENAS trained"]
    assert sections == [n for n in names for _ in SIMILARITIES]
    for _, c in output.correlations:
        rho = c.estimates["spearman"]
        assert c.n == 20 * 19 // 2 and -1 <= rho.low <= rho.value <= rho.high <= 1
    assert len(list((tmp_path / "figures").glob("controller_*.png"))) == 5
    text = output.document.markdown()
    assert "shared-weight valid token acc" in text and "ENAS, trained controller" in text
    table = output.table()
    assert set(table["y"]) == set(SIMILARITIES)
    assert np.isfinite(table["spearman"]).all()


def test_without_a_corpus_the_supernet_part_is_skipped_and_said(tmp_path: Path) -> None:
    from nasbench.results.controller_study import controller_embedding

    options = CorrelationOptions(bootstrap=BootstrapOptions(resamples=10))
    output = controller_embedding(tmp_path, options, small_config(samples=8, updates=4,
                                                                  rnn_fallback=None))
    assert {section.split(":")[0] for section, _ in output.correlations} == {"tabular"}
    text = output.document.markdown()
    assert "Supernet: skipped" in text and "ptb.train.txt" in text


def test_without_penn_treebank_the_supernet_part_reads_the_installed_bible(
        tmp_path: Path) -> None:
    from nasbench.results.controller_study import controller_embedding

    torch.set_num_threads(1)
    options = CorrelationOptions(bootstrap=BootstrapOptions(resamples=10))
    output = controller_embedding(tmp_path, options, small_config(samples=8, updates=4))
    assert {section.split(":")[0] for section, _ in output.correlations} == {"tabular", "rnn"}
    text = output.document.markdown()
    assert "reads 'kjv' instead" in text and "Supernet: ENAS recurrent cells on kjv" in text
