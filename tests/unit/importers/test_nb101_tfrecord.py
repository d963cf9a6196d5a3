"""NAS-Bench-101's TFRecord release, read without TensorFlow: a synthetic file written here in
the official format (TFRecord framing with masked CRC-32C, JSON records, base64 protobuf
``ModelMetrics``) is imported, and a tabular study runs on the imported table."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from nasbench.spaces.nb101 import Nb101Space, from_spec, pruned_cell
from nasbench.spaces.nb101_graph import INPUT_LABEL, OUTPUT_LABEL, graph_hash

from nasbench.data.importers import run_import, verify_import
from nasbench.errors import UserError
from nasbench.importers.nb101_tfrecord import Nb101Importer
from nasbench.importers.protobuf import decode_model_metrics
from nasbench.importers.tfrecord import crc32c, crc32c_python, read_records
from nasbench.protocol import load_study
from nasbench.registry import load_plugins
from nasbench.run import run_study

# -- an encoder of the official format, independent of the reader --------------------------


def _crc32c_bitwise(data: bytes) -> int:
    """CRC-32C bit by bit (RFC 3720): a second implementation to check the reader's."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def _masked(data: bytes) -> int:
    crc = _crc32c_bitwise(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _tfrecord(payloads: list[bytes]) -> bytes:
    out = b""
    for data in payloads:
        length = struct.pack("<Q", len(data))
        out += length + struct.pack("<I", _masked(length)) + data
        out += struct.pack("<I", _masked(data))
    return out


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = b""
    while True:
        byte = value & 0x7F
        value >>= 7
        out += bytes([byte | (0x80 if value else 0)])
        if not value:
            return out


def _double(number: int, value: float) -> bytes:
    return _varint(number << 3 | 1) + struct.pack("<d", value)


def _message(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _metrics(evaluations: list[tuple[float, float, float, float, float]], params: int) -> bytes:
    """A serialised ModelMetrics (field numbers of model_metrics.proto)."""
    out = b""
    for epoch, time, train, valid, test in evaluations:
        body = (_double(1, epoch) + _double(2, time) + _double(3, train) + _double(4, valid)
                + _double(5, test) + _message(6, b"/ckpt/model.ckpt-1"))
        out += _message(1, body)
    out += _varint(2 << 3 | 0) + _varint(params)
    out += _varint(99 << 3 | 0) + _varint(7)  # an unknown field, which readers must skip
    return out + _double(3, 1234.5)


def _record(arch: tuple[int, ...], epochs: int, rep: int, params: int) -> tuple[bytes, dict]:
    matrix, ops = pruned_cell(arch)
    labels = [INPUT_LABEL, *(Nb101Space.ops.index(o) for o in ops[1:-1]), OUTPUT_LABEL]
    module_hash = graph_hash(matrix, labels)
    seed = int(module_hash[:6], 16) + rep + epochs
    valid, test, time = 0.80 + (seed % 97) / 1000, 0.79 + (seed % 89) / 1000, 500.0 + seed % 300
    evaluations = [(0.0, 0.0, 0.1, 0.1, 0.1),
                   (epochs / 2, time / 2, 0.7, valid - 0.05, test - 0.05),
                   (float(epochs), time, 1.0, valid, test)]
    raw = base64.b64encode(_metrics(evaluations, params)).decode()
    adjacency = "".join(str(b) for row in matrix for b in row)
    record = json.dumps([module_hash, epochs, adjacency, ",".join(ops), raw]).encode()
    return record, {"hash": module_hash, "valid": 100 * valid, "test": 100 * test,
                    "time": time, "half_valid": 100 * (valid - 0.05)}


INCEPTION_STORED = (
    [[0, 1, 1, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1],
     [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
    ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "conv3x3-bn-relu",
     "conv3x3-bn-relu", "output"],
)
INCEPTION_QUERIED = (
    [[0, 1, 1, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 1, 0, 0],
     [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
    ["input", "conv1x1-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu",
     "maxpool3x3", "output"],
)


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> tuple[Path, list[tuple[int, ...]], dict]:
    """A 4-cell ``nasbench_only108.tfrecord``-like file, 3 repeats per cell, plus a 12-epoch
    budget for the first two cells (as in ``nasbench_full.tfrecord``)."""
    space = Nb101Space()
    rng = np.random.default_rng(0)
    archs = [from_spec(*INCEPTION_STORED)]
    while len(archs) < 4:
        arch = space.sample(rng)
        if space.arch_key(arch) not in {space.arch_key(a) for a in archs}:
            archs.append(arch)
    payloads, expected = [], {}
    for i, arch in enumerate(archs):
        for epochs in (12, 108) if i < 2 else (108,):
            for rep in range(3):
                record, facts = _record(arch, epochs, rep, params=1_000_000 + i)
                payloads.append(record)
                expected.setdefault((facts["hash"], epochs), []).append(facts)
    path = tmp_path_factory.mktemp("nb101") / "nasbench_only108.tfrecord"
    path.write_bytes(_tfrecord(payloads))
    return path, archs, expected


# -- the format pieces ---------------------------------------------------------------------


def test_crc32c_check_values() -> None:
    """RFC 3720's check value, and agreement of the fast and pure-Python implementations."""
    assert crc32c_python(b"123456789") == 0xE3069283 == _crc32c_bitwise(b"123456789")
    blob = bytes(range(256)) * 7
    assert crc32c(blob) == crc32c_python(blob) == _crc32c_bitwise(blob)


def test_protobuf_decoder_reads_model_metrics() -> None:
    data = _metrics([(0.0, 0.0, 0.1, 0.2, 0.3), (54.0, 800.25, 0.9, 0.91, 0.92)], 2_694_282)
    metrics = decode_model_metrics(data)
    assert metrics.trainable_parameters == 2_694_282 and metrics.total_time == 1234.5
    assert [e.current_epoch for e in metrics.evaluation_data] == [0.0, 54.0]
    last = metrics.evaluation_data[1]
    assert (last.training_time, last.validation_accuracy, last.test_accuracy) == (
        800.25, 0.91, 0.92)
    assert last.checkpoint_path == "/ckpt/model.ckpt-1"


def test_records_round_trip_and_damage_is_refused(release, tmp_path) -> None:
    path, _, _ = release
    records = list(read_records(path))
    assert len(records) == 3 * 4 + 3 * 2
    data = bytearray(path.read_bytes())
    data[40] ^= 0x01  # inside the first record's data
    bad = tmp_path / "bad.tfrecord"
    bad.write_bytes(bytes(data))
    with pytest.raises(UserError, match="bad TFRecord at byte 0: the record's data checksum"):
        list(read_records(bad))
    first = len(records[0]) + 16
    bad.write_bytes(path.read_bytes()[: first + 20])
    with pytest.raises(UserError, match=f"bad TFRecord at byte {first}.*truncated"):
        list(read_records(bad))
    bad.write_bytes(b"not a tfrecord file at all")
    with pytest.raises(UserError, match="length's checksum"):
        list(read_records(bad))


# -- the import ----------------------------------------------------------------------------


def test_import_writes_the_table(release, tmp_path) -> None:
    path, archs, expected = release
    out = run_import(Nb101Importer(), path, tmp_path / "imported")
    assert out == tmp_path / "imported" / "nb101" and verify_import(out) == []
    table = pd.read_parquet(out / "nb101.parquet")
    description = json.loads((out / "nb101.json").read_text())
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["source_files"][0]["bytes"] == path.stat().st_size
    assert provenance["importer"] == "nb101"
    space = Nb101Space()
    assert len(table) == 4
    assert description["format"] == 1 and description["space"] == "nb101"
    assert description["kind"] == "benchmark" and description["key_column"] == "arch_key"
    assert description["rows"] == 4 and description["licence"] == "Apache-2.0"
    assert description["search_metric"] == "valid_108ep"
    assert description["cost_metric"] == "train_time_108ep"
    assert set(description["fidelities"]) == {"12", "108"}
    for arch in archs:
        key = space.arch_key(arch)
        row = table[table["arch_key"] == key].iloc[0]
        assert space.arch_key(space.from_string(row["arch"])) == key
        for epochs in (12, 108):
            facts = expected.get((key, epochs))
            if facts is None:
                assert np.isnan(row[f"cifar10/valid_{epochs}ep"])
                continue
            for rep, f in enumerate(facts):
                assert row[f"cifar10/valid_{epochs}ep#{rep}"] == pytest.approx(f["valid"])
                assert row[f"cifar10/test_{epochs}ep#{rep}"] == pytest.approx(f["test"])
                assert row[f"cifar10/train_time_{epochs}ep#{rep}"] == f["time"]
            assert row[f"cifar10/valid_{epochs}ep"] == pytest.approx(
                np.mean([f["valid"] for f in facts]))
            assert row[f"cifar10/valid_{epochs}ep@{epochs / 2:g}"] == pytest.approx(
                np.mean([f["half_valid"] for f in facts]))
    # the cell as the notebook queries it finds the cell as the dataset stores it
    queried = space.arch_key(from_spec(*INCEPTION_QUERIED))
    assert queried in set(table["arch_key"])


def test_a_single_budget_offers_its_half_way_point_as_a_fidelity(tmp_path) -> None:
    """Like the released API's ``stop_halfway``: 54 and 108 epochs, each charged its time."""
    records = [_record(from_spec(*INCEPTION_STORED), 108, rep, 1)[0] for rep in range(3)]
    path = tmp_path / "nasbench_only108.tfrecord"
    path.write_bytes(_tfrecord(records))
    Nb101Importer().convert(path, tmp_path / "out")
    description = json.loads((tmp_path / "out" / "nb101.json").read_text())
    assert description["fidelities"] == {
        "54": {"valid": "valid_108ep@54", "test": "test_108ep@54",
               "cost": "train_time_108ep@54"},
        "108": {"valid": "valid_108ep", "test": "test_108ep", "cost": "train_time_108ep"},
    }
    assert description["metrics"]["valid_108ep@54"]["split"] == "valid"


def test_a_record_whose_hash_disagrees_is_refused(tmp_path) -> None:
    record, _ = _record(from_spec(*INCEPTION_STORED), 108, 0, 1)
    fields = json.loads(record)
    fields[0] = "0" * 32
    path = tmp_path / "x.tfrecord"
    path.write_bytes(_tfrecord([json.dumps(fields).encode()]))
    with pytest.raises(UserError, match=r"hashes to .* but the record says 0000"):
        Nb101Importer().convert(path, tmp_path / "out")
    path.write_bytes(_tfrecord([b'["abc", 108]']))
    with pytest.raises(UserError, match="record 1 is not a NAS-Bench-101 record"):
        Nb101Importer().convert(path, tmp_path / "out")


STUDY = """
[study]
name = "nb101-imported"
seeds = 2
data_dir = "{data_dir}"
[space]
name = "nb101"
[evaluator]
name = "tabular"
dataset = "cifar10"
search_metric = "valid_108ep"
report_metrics = ["test_108ep"]
[budget]
evaluations = 6
[[strategies]]
name = "fixed_set"
archs = {archs}
[[strategies]]
name = "random_search"
"""


def test_a_tabular_study_runs_on_the_imported_table(release, tmp_path, monkeypatch) -> None:
    """Imported by 'nasbench data import nb101 FILE' into the import directory, the table is
    the nb101 space's benchmark (the one generic table class, matching rows by the table's
    ``arch_key`` column): its cells (one written as the notebook queries it, isomorphic to
    the stored one) are found and charged
    their recorded training time; random cells, which a 4-cell table lacks, fail cleanly."""
    from nasbench.evaluators.table_benchmark import TableBenchmark

    path, archs, expected = release
    from nasbench.cli import main

    monkeypatch.setenv("NASBENCH_IMPORT_DIR", str(tmp_path / "imports"))
    assert main(["data", "import", "nb101", str(path)]) == 0
    assert main(["data", "path", "nb101"]) == 0
    space = Nb101Space()
    listed = [space.to_string(from_spec(*INCEPTION_QUERIED)),
              *(space.to_string(a) for a in archs[1:])]
    config = tmp_path / "study.toml"
    config.write_text(STUDY.format(data_dir=tmp_path / "no-table-here", archs=json.dumps(listed)))
    plugins = load_plugins()
    assert issubclass(plugins.benchmarks.get("nb101"), TableBenchmark)
    outcome = run_study(load_study(config, plugins), plugins, tmp_path / "out", progress=False)
    assert outcome.complete
    trials = pd.read_parquet(tmp_path / "out" / "trials.parquet")
    fixed = trials[trials["strategy_name"] == "fixed_set"]
    assert len(fixed) == 2 * 4 and (fixed["status"] == "ok").all()
    for _, trial in fixed.iterrows():
        key = space.arch_key(space.from_string(trial["arch"]))
        facts = expected[(key, 108)]
        assert trial["search_metric"] == pytest.approx(np.mean([f["valid"] for f in facts]))
        assert trial["cost"] == pytest.approx(np.mean([f["time"] for f in facts]))
    assert set(fixed["arch_key"]) == {space.arch_key(a) for a in archs}
    randoms = trials[trials["strategy_name"] == "random_search"]
    assert (randoms["status"] == "failed").all()
    assert randoms["reason"].str.contains("is not in the nb101 table").all()
