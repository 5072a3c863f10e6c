"""TensorBoard event files, written with the ``tensorboard`` package (the ``[tensorboard]``
extra), imported only when a TensorBoard callback writes."""

from __future__ import annotations

import time

import numpy as np


def require_tensorboard():
    """tensorboard's event-file writer and protos, or an ImportError naming the extra."""
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError:
        raise ImportError(
            "The TensorBoard callback needs the tensorboard package, which is not installed. "
            "Install the extra: pip install 'shendu[tensorboard]'"
        ) from None
    return EventFileWriter, event_pb2, summary_pb2


class EventWriter:
    """Scalars and histograms for one run directory (``log_dir/train``, ...)."""

    def __init__(self, directory: str):
        writer_class, self._event_pb2, self._summary_pb2 = require_tensorboard()
        self._writer = writer_class(directory)

    def _write(self, value, step: int) -> None:
        summary = self._summary_pb2.Summary(value=[value])
        event = self._event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary)
        self._writer.add_event(event)

    def scalar(self, tag: str, value, step: int) -> None:
        self._write(self._summary_pb2.Summary.Value(tag=tag, simple_value=float(value)), step)

    def histogram(self, tag: str, values, step: int, bins: int = 30) -> None:
        """A histogram of ``values`` over ``bins`` equal buckets (TensorBoard's
        HistogramProto: bucket right edges and counts)."""
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        values = values[np.isfinite(values)]
        if values.size == 0:
            return
        counts, edges = np.histogram(values, bins=bins)
        proto = self._summary_pb2.HistogramProto(
            min=float(values.min()),
            max=float(values.max()),
            num=float(values.size),
            sum=float(values.sum()),
            sum_squares=float((values * values).sum()),
            bucket_limit=[float(e) for e in edges[1:]],
            bucket=[float(c) for c in counts],
        )
        self._write(self._summary_pb2.Summary.Value(tag=tag, histo=proto), step)

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()
