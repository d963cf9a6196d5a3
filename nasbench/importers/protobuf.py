"""A minimal Protocol Buffers wire-format decoder for NAS-Bench-101's ``ModelMetrics``.

The encoding is the one documented at https://protobuf.dev/programming-guides/encoding/: a
message is a sequence of (key, value) pairs, ``key = field_number << 3 | wire_type`` as a
varint; wire type 0 is a varint, 1 a little-endian 64-bit value (``double``), 2 a
length-delimited value (strings, embedded messages), 5 a 32-bit value. Fields this reader does
not know are skipped, as protobuf requires.

The two messages, with field numbers from the released ``nasbench/lib/model_metrics.proto``
(https://github.com/google-research/nasbench)::

    message ModelMetrics {
      repeated EvaluationData evaluation_data = 1;
      optional int32 trainable_parameters = 2;
      optional double total_time = 3;
    }
    message EvaluationData {
      optional double current_epoch = 1;
      optional double training_time = 2;      // seconds of training up to this point
      optional double train_accuracy = 3;
      optional double validation_accuracy = 4;
      optional double test_accuracy = 5;
      optional string checkpoint_path = 6;
    }
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field


class WireError(ValueError):
    """The bytes are not a valid encoding of the expected message."""


@dataclass(frozen=True)
class EvaluationData:
    current_epoch: float = 0.0
    training_time: float = 0.0
    train_accuracy: float = 0.0
    validation_accuracy: float = 0.0
    test_accuracy: float = 0.0
    checkpoint_path: str = ""


@dataclass(frozen=True)
class ModelMetrics:
    evaluation_data: tuple[EvaluationData, ...] = field(default_factory=tuple)
    trainable_parameters: int = 0
    total_time: float = 0.0


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise WireError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise WireError("varint longer than 10 bytes")


def fields(data: bytes) -> list[tuple[int, int, int | float | bytes]]:
    """``(field number, wire type, raw value)`` of every field of a message, in order
    (a double's raw value is its float; a length-delimited value its bytes)."""
    out: list[tuple[int, int, int | float | bytes]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        value: int | float | bytes
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            if pos + 8 > len(data):
                raise WireError("truncated 64-bit field")
            (value,) = struct.unpack_from("<d", data, pos)
            pos += 8
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise WireError("truncated length-delimited field")
            value = data[pos:pos + length]
            pos += length
        elif wire == 5:
            if pos + 4 > len(data):
                raise WireError("truncated 32-bit field")
            value = data[pos:pos + 4]
            pos += 4
        else:
            raise WireError(f"unsupported wire type {wire}")
        out.append((number, wire, value))
    return out


def _int32(value: int) -> int:
    value &= 0xFFFFFFFFFFFFFFFF
    return value - (1 << 64) if value >= 1 << 63 else value


_EVAL_DOUBLES = {1: "current_epoch", 2: "training_time", 3: "train_accuracy",
                 4: "validation_accuracy", 5: "test_accuracy"}


def _evaluation(data: bytes) -> EvaluationData:
    values: dict[str, float | str] = {}
    for number, wire, value in fields(data):
        if number in _EVAL_DOUBLES:
            if wire != 1:
                raise WireError(f"EvaluationData field {number} must be a double")
            values[_EVAL_DOUBLES[number]] = float(value)  # type: ignore[arg-type]
        elif number == 6:
            if wire != 2:
                raise WireError("EvaluationData.checkpoint_path must be a string")
            values["checkpoint_path"] = bytes(value).decode("utf-8", "replace")  # type: ignore
    return EvaluationData(**values)  # type: ignore[arg-type]


def decode_model_metrics(data: bytes) -> ModelMetrics:
    """Parse a serialised ``ModelMetrics``.

    Raises:
        WireError: when ``data`` is not a valid encoding of it.
    """
    evaluations: list[EvaluationData] = []
    params = 0
    total = 0.0
    for number, wire, value in fields(data):
        if number == 1:
            if wire != 2:
                raise WireError("ModelMetrics.evaluation_data must be a message")
            evaluations.append(_evaluation(value))  # type: ignore[arg-type]
        elif number == 2:
            if wire != 0:
                raise WireError("ModelMetrics.trainable_parameters must be a varint")
            params = _int32(value)  # type: ignore[arg-type]
        elif number == 3:
            if wire != 1:
                raise WireError("ModelMetrics.total_time must be a double")
            total = float(value)  # type: ignore[arg-type]
    return ModelMetrics(tuple(evaluations), params, total)
