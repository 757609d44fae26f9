"""The bound-checking primitives: a bad value is one UsageError naming the binding and the range.

The bottom floor: it imports nothing of the package but errors.py, so any module (PPOConfig's
`__post_init__`, a reward's constructor) can check its own values without an import circle.

A parameter's bound is declared once, in its signature, as an annotation:
`k: Count = 3`, `rho: Annotated[float, number_in(0.0, 1.0)] = 1e-5`; preflight walks every
configurable's annotations and checks each bound binding before a run directory is touched.
"""

import dataclasses
import inspect
import math
import numbers
import typing
from typing import Annotated, Callable

from episodic_curiosity.errors import UsageError

NATURE_CNN_MIN_SIZE = 36  # the smallest frame the policy's three convolutions accept
PRECISIONS = ("fp32", "bf16")  # EpisodicCuriosity.precision, PPOConfig.precision
COMPILE_MODES = ("none", "default", "reduce-overhead", "max-autotune")  # torch.compile's modes
RECURRENT_CORES = ("none", "lstm", "gru")  # PPOConfig.recurrent


def integer(name: str, value, minimum: int = 1) -> None:
    """`value` must be an int >= minimum (bools and floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise UsageError(f"{name} = {value!r} is invalid: it must be an integer >= {minimum}; "
                         "fix the gin binding or preset")


def real(name: str, value, low: float = -math.inf, high: float = math.inf,
         low_open: bool = False) -> None:
    """`value` must be a finite number in [low, high] ((low, high] when `low_open`)."""
    ok = (not isinstance(value, bool) and isinstance(value, numbers.Real)
          and math.isfinite(value) and (value > low if low_open else value >= low)
          and value <= high)
    if not ok:
        bounds = (f"{'(' if low_open else '['}{low:g}, {high:g}]" if math.isfinite(low)
                  or math.isfinite(high) else "finite")
        raise UsageError(f"{name} = {value!r} is invalid: it must be a number in {bounds}; "
                         "fix the gin binding or preset")


def choice(*options):
    """A rule: the value must be one of `options` (string options: precision, view, ...)."""
    def rule(name, value):
        if value not in options:
            raise UsageError(f"{name} = {value!r} is invalid: it must be one of "
                             f"{', '.join(map(repr, options))}; fix the gin binding or preset")
    return rule


@dataclasses.dataclass(frozen=True)
class Bound:
    """A parameter's rule, carried by its annotation (typing.Annotated metadata)."""

    rule: Callable[[str, object], None]

    def check(self, name: str, value) -> None:
        self.rule(name, value)


def at_least(minimum: int) -> Bound:
    return Bound(lambda name, value: integer(name, value, minimum))


def number_in(low: float = -math.inf, high: float = math.inf, low_open: bool = False) -> Bound:
    return Bound(lambda name, value: real(name, value, low, high, low_open))


def one_of(*options) -> Bound:
    return Bound(choice(*options))


def optional(bound: Bound) -> Bound:
    """None, or a value `bound` accepts (None means "derive it": a default worker count...)."""
    return Bound(lambda name, value: value is None or bound.check(name, value))


COUNT, INDEX = at_least(1), at_least(0)
REAL, POSITIVE, NON_NEGATIVE = number_in(), number_in(0.0, low_open=True), number_in(0.0)
UNIT, UNIT_OPEN = number_in(0.0, 1.0), number_in(0.0, 1.0, low_open=True)

# The common annotations, by what they mean.
Count = Annotated[int, COUNT]  # an integer >= 1
Index = Annotated[int, INDEX]  # an integer >= 0 (seeds, thread and worker counts)
Real = Annotated[float, REAL]  # any finite number
Positive = Annotated[float, POSITIVE]  # > 0
NonNegative = Annotated[float, NON_NEGATIVE]  # >= 0
Unit = Annotated[float, UNIT]  # in [0, 1]
UnitOpen = Annotated[float, UNIT_OPEN]  # in (0, 1]
Flag = Annotated[bool, one_of(True, False)]
OptionalCount = Annotated[int | None, optional(COUNT)]
OptionalIndex = Annotated[int | None, optional(INDEX)]
OptionalPositive = Annotated[float | None, optional(POSITIVE)]
FrameSize = Annotated[int, at_least(NATURE_CNN_MIN_SIZE)]  # a frame side the policy CNN takes
Precision = Annotated[str, one_of(*PRECISIONS)]
CompileMode = Annotated[str, one_of(*COMPILE_MODES)]
RecurrentCore = Annotated[str, one_of(*RECURRENT_CORES)]


def bounds(fn) -> dict[str, Bound]:
    """{parameter: Bound} declared in `fn`'s annotations (a function, or a class's __init__)."""
    target = fn
    if isinstance(fn, type) and not dataclasses.is_dataclass(fn):
        target = inspect.unwrap(fn.__init__)  # gin wraps a configurable class's __init__
    hints = typing.get_type_hints(target, include_extras=True)
    return {name: next(m for m in hint.__metadata__ if isinstance(m, Bound))
            for name, hint in hints.items()
            if typing.get_origin(hint) is Annotated
            and any(isinstance(m, Bound) for m in hint.__metadata__)}

