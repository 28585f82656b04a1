"""Progress on stderr: a redrawn bar on a terminal, plain lines anywhere else.

A CI log or a file must not fill with carriage-return frames, and a person at a terminal
wants one line that moves; both get the same events from the library through the small
`Progress` interface, so the submit engine never knows where its progress goes.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol, TextIO


class Progress(Protocol):
    """What a long-running command reports while it works."""

    def start(self, total: int, label: str) -> None:
        """`total` units of work are about to begin."""

    def update(self, done: int, counts: Mapping[str, int]) -> None:
        """`done` units finished so far; `counts` by result."""

    def note(self, text: str) -> None:
        """A one-line remark (a retry, a warning) that should not be lost."""

    def finish(self) -> None:
        """The work is over (normally or not)."""


class NullProgress:
    """Says nothing (library use, tests, `--json` pipelines that want a quiet stderr)."""

    def start(self, total: int, label: str) -> None:
        pass

    def update(self, done: int, counts: Mapping[str, int]) -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def finish(self) -> None:
        pass


def _counts_text(counts: Mapping[str, int]) -> str:
    return " ".join(f"{name.lower()} {n}" for name, n in counts.items() if n)


class LineProgress:
    """Plain lines, at most one per `interval` seconds plus the first and the last, so a
    10,000-row campaign does not print 1,000 lines into a log."""

    def __init__(self, stream: TextIO, interval: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self._total = 0
        self._label = ""
        self._last = float("-inf")
        self._pending: tuple[int, Mapping[str, int]] | None = None

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def start(self, total: int, label: str) -> None:
        with self._lock:
            self._total, self._label = total, label

    def _line(self, done: int, counts: Mapping[str, int]) -> str:
        extra = _counts_text(counts)
        return f"{self._label}: {done}/{self._total}" + (f" ({extra})" if extra else "")

    def update(self, done: int, counts: Mapping[str, int]) -> None:
        with self._lock:
            now = self.clock()
            if now - self._last >= self.interval or done >= self._total:
                self._last = now
                self._pending = None
                self._write(self._line(done, counts))
            else:
                self._pending = (done, dict(counts))

    def note(self, text: str) -> None:
        with self._lock:
            self._write(text)

    def finish(self) -> None:
        with self._lock:
            if self._pending is not None:
                self._write(self._line(*self._pending))
                self._pending = None


class BarProgress:
    """One line redrawn in place: `label [#####-----] 43/100 created 40 rejected 3`."""

    def __init__(self, stream: TextIO, width: int = 30, interval: float = 0.1,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.width = width
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self._total = 0
        self._label = ""
        self._last = float("-inf")
        self._shown = ""
        self._state: tuple[int, Mapping[str, int]] = (0, {})

    def _draw(self) -> None:
        done, counts = self._state
        filled = int(self.width * done / self._total) if self._total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        extra = _counts_text(counts)
        line = f"{self._label} [{bar}] {done}/{self._total}" + (f" {extra}" if extra else "")
        padding = " " * max(0, len(self._shown) - len(line))
        self.stream.write("\r" + line + padding)
        self.stream.flush()
        self._shown = line

    def start(self, total: int, label: str) -> None:
        with self._lock:
            self._total, self._label = total, label
            self._draw()

    def update(self, done: int, counts: Mapping[str, int]) -> None:
        with self._lock:
            self._state = (done, dict(counts))
            now = self.clock()
            if now - self._last >= self.interval or done >= self._total:
                self._last = now
                self._draw()

    def note(self, text: str) -> None:
        with self._lock:
            self.stream.write("\r" + " " * len(self._shown) + "\r" + text + "\n")
            self._shown = ""
            if self._label:
                self._draw()

    def finish(self) -> None:
        with self._lock:
            if self._label:
                self._draw()
                self.stream.write("\n")
                self.stream.flush()
            self._label = ""


class _InLanguage:
    """A reporter that speaks `language`: the label, a note that is one of the terminal's
    fixed texts (terminal._ZH) and the count names (`created`, `passed`) are translated; a
    note with figures in it comes already said by the library (terminal.say)."""

    def __init__(self, inner: Progress, language: str) -> None:
        self.inner = inner
        self.language = language

    def start(self, total: int, label: str) -> None:
        from bulkimport.terminal import translate

        self.inner.start(total, translate(self.language, label))

    def update(self, done: int, counts: Mapping[str, int]) -> None:
        from bulkimport.terminal import count_word

        self.inner.update(done, {count_word(self.language, name): n for name, n in counts.items()})

    def note(self, text: str) -> None:
        from bulkimport.terminal import translate

        self.inner.note(translate(self.language, text))

    def finish(self) -> None:
        self.inner.finish()


def in_language(progress: Progress, language: str) -> Progress:
    """`progress` speaking `language`. The CLI makes the reporter before the workbook is read;
    the library, once it knows the campaign's language, wraps it (en-us: as it is)."""
    return progress if language == "en-us" or isinstance(progress, NullProgress | _InLanguage) \
        else _InLanguage(progress, language)


def for_stream(stream: TextIO | None = None, *, quiet: bool = False) -> Progress:
    """The right reporter for a stream: a bar on a terminal (unless TERM=dumb), lines elsewhere."""
    stream = stream if stream is not None else sys.stderr
    if quiet:
        return NullProgress()
    is_tty = getattr(stream, "isatty", lambda: False)()
    if is_tty and os.environ.get("TERM") != "dumb":
        return BarProgress(stream)
    return LineProgress(stream)
