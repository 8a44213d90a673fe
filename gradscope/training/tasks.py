"""Synthetic long-memory tasks of the RNN literature, generated on the fly with numpy.

Every task yields batches of the same layout, so one loss and one training step serve all:
`xs` (n, L, D) float32 inputs, `targets` (n, L) (float32 for regression, int32 class ids),
`loss_mask` (n, L) (the steps the loss averages over) and `score_mask` (n, L) (the steps
the task error counts). L is the sequence length fed to the network (T, or T + 20 for copy).

- `adding` (Hochreiter & Schmidhuber 1997; Pascanu et al. 2013): channel 0 holds U(0, 1)
  values, channel 1 marks exactly two steps, one in each half; the target is the mean of
  the two marked values, read at the last step; loss MSE; a sample is wrong when its squared
  error exceeds 0.04. Predicting 0.5 always gives Var((u1 + u2)/2) = 1/24.
- `torder` (temporal order, same papers): distractors a–d with A or B at one step of
  [T/10, 2T/10) and one of [5T/10, 6T/10); 4 classes AA, AB, BA, BB at the last step.
- `copy` (Arjovsky et al. 2016): 10 symbols of 8, T − 1 blanks, a marker, 10 blanks; the
  targets are blanks, then the 10 symbols. The loss averages over all T + 20 steps, so the
  memoryless baseline (blanks, then uniform guesses over 8) is 10·ln 8 / (T + 20). The task
  error counts the 10 recall steps only.
- `charlm`: next-character prediction on windows of a text (built in, or a UTF-8 file).

Training batch i comes from `default_rng([seed, 10, i])` and the held-out batch from
`default_rng([seed, 11])`, so data do not depend on how iterations are chunked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

from ..errors import UsageError

TASKS = ("adding", "copy", "charlm", "torder")

# A sample of the adding task is wrong when its squared error exceeds this.
ADDING_WRONG_SQ_ERROR = 0.04
COPY_SYMBOLS, COPY_LENGTH = 8, 10  # 10 symbols drawn from 8 (Arjovsky et al.)
COPY_BLANK, COPY_MARKER = 0, 9
TORDER_DISTRACTORS = 4  # a, b, c, d; then A = 4, B = 5
TORDER_A, TORDER_B = TORDER_DISTRACTORS, TORDER_DISTRACTORS + 1

# A run is "solved" when its held-out task error is below this.
SOLVED_BELOW = {"adding": 0.01, "torder": 0.01, "copy": 0.01, "charlm": 0.05}

# The seeds' example ('hell' -> 'ello') starts the built-in text.
BUILTIN_TEXT = (
    "hello. a recurrent network reads a sentence one character at a time and keeps what it "
    "has seen in its state. to learn, it sends the error back through every step it took, and "
    "at each step the gradient is multiplied by the jacobian of that step. when those factors "
    "are small the gradient fades away before it reaches the early characters, and the network "
    "cannot learn what they meant. when they are large the gradient grows without bound, and "
    "one update can throw the weights far from where they were. gates help the first problem: "
    "an lstm or a gru can keep its cell open and carry the gradient across many steps. clipping "
    "helps the second: when the norm of the gradient passes a threshold, the gradient is scaled "
    "back to that threshold, and the step keeps its direction but not its size."
)


class Batch(NamedTuple):
    """One batch of a task (see the module docstring for shapes)."""

    xs: np.ndarray
    targets: np.ndarray
    loss_mask: np.ndarray
    score_mask: np.ndarray


@dataclass(frozen=True)
class Task:
    """A task and its sizes.

    **Arguments:**

    - `name`: one of `TASKS`; `steps`: the T of `--steps`.
    - `text`: the corpus of `charlm` (None otherwise); `text_file`: where it came from
      (None: the built-in text).
    """

    name: str
    steps: int
    text: str | None = None
    text_file: str | None = None

    @cached_property
    def _codes(self) -> tuple[tuple[str, ...], np.ndarray]:
        return text_codes(self.text or "")

    @property
    def vocab(self) -> tuple[str, ...]:
        """The characters of `charlm` (one-hot index i is character i); empty otherwise."""
        return self._codes[0]

    @property
    def length(self) -> int:
        """Steps fed to the network: T, or T + 20 for copy."""
        return self.steps + 2 * COPY_LENGTH if self.name == "copy" else self.steps

    @property
    def input_size(self) -> int:
        return {"adding": 2, "copy": COPY_MARKER + 1, "torder": TORDER_B + 1}.get(
            self.name, len(self.vocab))

    @property
    def output_size(self) -> int:
        return {"adding": 1, "copy": COPY_MARKER + 1, "torder": 4}.get(self.name, len(self.vocab))

    @property
    def regression(self) -> bool:
        return self.name == "adding"

    @property
    def solved_below(self) -> float:
        return SOLVED_BELOW[self.name]

    @property
    def baseline_loss(self) -> float:
        """The loss of the best memoryless predictor (see the module docstring)."""
        if self.name == "adding":
            return 1.0 / 24.0
        if self.name == "torder":
            return math.log(4.0)
        if self.name == "copy":
            return COPY_LENGTH * math.log(COPY_SYMBOLS) / (self.steps + 2 * COPY_LENGTH)
        # charlm: predicting the character frequencies (the unigram entropy, nats per step)
        counts = np.bincount(self._codes[1][1:])
        counts = counts[counts > 0]
        p = counts / counts.sum()
        return float(-(p * np.log(p)).sum())

    def batch(self, rng: np.random.Generator, n: int) -> Batch:
        """`n` fresh sequences drawn from `rng`."""
        if self.name == "adding":
            return adding_batch(rng, n, self.steps)
        if self.name == "torder":
            return torder_batch(rng, n, self.steps)
        if self.name == "copy":
            return copy_batch(rng, n, self.steps)
        return charlm_batch(rng, n, self.steps, self._codes[1], len(self.vocab))


def train_batch(task: Task, seed: int, iteration: int, n: int) -> Batch:
    """The training batch of iteration `iteration` (the same for every run of a seed)."""
    return task.batch(np.random.default_rng([seed, 10, iteration]), n)


def eval_batch(task: Task, seed: int, n: int) -> Batch:
    """The fixed held-out batch the task error is measured on."""
    return task.batch(np.random.default_rng([seed, 11]), n)


def _one_hot(ids: np.ndarray, size: int) -> np.ndarray:
    return np.eye(size, dtype=np.float32)[ids]


def _last_step_mask(n: int, L: int) -> np.ndarray:
    m = np.zeros((n, L), np.float32)
    m[:, -1] = 1
    return m


def adding_batch(rng: np.random.Generator, n: int, T: int) -> Batch:
    """Adding problem: target = mean of the two marked values (one marker per half)."""
    values = rng.uniform(0.0, 1.0, (n, T))
    first = rng.integers(0, T // 2, n)
    second = rng.integers(T // 2, T, n)
    rows = np.arange(n)
    markers = np.zeros((n, T))
    markers[rows, first] = 1
    markers[rows, second] = 1
    xs = np.stack([values, markers], axis=-1).astype(np.float32)
    targets = np.zeros((n, T), np.float32)
    targets[:, -1] = 0.5 * (values[rows, first] + values[rows, second])
    mask = _last_step_mask(n, T)
    return Batch(xs, targets, mask, mask.copy())


def torder_windows(T: int) -> tuple[range, range]:
    """Where the two relevant symbols may sit: [T/10, 2T/10) and [5T/10, 6T/10), each at
    least one step wide."""
    a, b = T // 10, T // 2
    return range(a, max(2 * T // 10, a + 1)), range(b, max(6 * T // 10, b + 1))


def torder_batch(rng: np.random.Generator, n: int, T: int) -> Batch:
    """Temporal order: class 2·[first is B] + [second is B] (AA 0, AB 1, BA 2, BB 3)."""
    w1, w2 = torder_windows(T)
    symbols = rng.integers(0, TORDER_DISTRACTORS, (n, T))
    first = rng.integers(w1.start, w1.stop, n)
    second = rng.integers(w2.start, w2.stop, n)
    which = rng.integers(0, 2, (n, 2))  # 0: A, 1: B
    rows = np.arange(n)
    symbols[rows, first] = TORDER_A + which[:, 0]
    symbols[rows, second] = TORDER_A + which[:, 1]
    targets = np.zeros((n, T), np.int32)
    targets[:, -1] = 2 * which[:, 0] + which[:, 1]
    mask = _last_step_mask(n, T)
    return Batch(_one_hot(symbols, TORDER_B + 1), targets, mask, mask.copy())


def copy_batch(rng: np.random.Generator, n: int, T: int) -> Batch:
    """Copy memory: 10 symbols, T − 1 blanks, a marker, 10 blanks; recall the symbols."""
    K = COPY_LENGTH
    L = T + 2 * K
    data = rng.integers(1, COPY_SYMBOLS + 1, (n, K))
    inputs = np.full((n, L), COPY_BLANK)
    inputs[:, :K] = data
    inputs[:, T + K - 1] = COPY_MARKER
    targets = np.full((n, L), COPY_BLANK, np.int32)
    targets[:, -K:] = data
    score = np.zeros((n, L), np.float32)
    score[:, -K:] = 1
    return Batch(_one_hot(inputs, COPY_MARKER + 1), targets, np.ones((n, L), np.float32), score)


def text_codes(text: str) -> tuple[tuple[str, ...], np.ndarray]:
    """The vocabulary (sorted distinct characters) and the text as indices into it."""
    vocab = tuple(sorted(set(text)))
    index = {c: i for i, c in enumerate(vocab)}
    return vocab, np.array([index[c] for c in text], np.int32)


def charlm_batch(rng: np.random.Generator, n: int, T: int, codes: np.ndarray,
                 vocab_size: int) -> Batch:
    """Windows of T + 1 characters at random offsets: inputs the first T (one-hot), targets
    the next character at every step."""
    starts = rng.integers(0, len(codes) - T, n)
    windows = codes[starts[:, None] + np.arange(T + 1)]
    ones = np.ones((n, T), np.float32)
    return Batch(_one_hot(windows[:, :T], vocab_size), windows[:, 1:], ones, ones.copy())


def read_text(path: str) -> str:
    """A UTF-8 text file for `charlm` (the final newline dropped); usage errors for a missing,
    empty or non-UTF-8 file."""
    from ..io.inputs import TEXT_PREFIX, _text

    return _text(TEXT_PREFIX + path)


def make_task(name: str, steps: int, *, text_file: str | None = None) -> Task:
    """Check the task options and build the `Task`.

    **Arguments:**

    - `name`: `adding`, `copy`, `charlm`, `torder`, or `text:FILE` (charlm on FILE).
    - `steps`: T.
    - `text_file`: the `--text` file of `charlm` (None: the built-in text).

    **Returns:** the `Task`. Raises `UsageError` for an unknown task, a T too short for it,
    or a text that is missing, empty, not UTF-8 or shorter than T + 1 characters.
    """
    if name.startswith("text:"):
        if text_file is not None:
            raise UsageError("--task text:FILE and --text both name a text",
                             "pass one of them: --task charlm --text FILE or --task text:FILE")
        name, text_file = "charlm", name[len("text:"):]
    if name not in TASKS:
        raise UsageError(f"unknown --task {name!r}",
                         f"use one of: {', '.join(TASKS)} or text:FILE (e.g. --task adding)")
    if text_file is not None and name != "charlm":
        raise UsageError(f"--text applies to --task charlm, not {name}",
                         "drop --text or use --task charlm")
    minimum = {"adding": 2, "torder": 4, "copy": 1, "charlm": 1}[name]
    if steps < minimum:
        raise UsageError(f"--task {name} needs --steps {minimum} or more, got {steps}",
                         f"pass e.g. --steps {max(minimum, 20)}")
    text = None
    if name == "charlm":
        text = BUILTIN_TEXT if text_file is None else read_text(text_file)
        if len(text) < steps + 1:
            source = "the built-in text" if text_file is None else f"text file {text_file}"
            raise UsageError(f"{source} has {len(text)} characters; --steps {steps} needs "
                             f"at least {steps + 1}",
                             f"lower --steps to at most {len(text) - 1} or use a longer text")
    return Task(name, steps, text, text_file)
