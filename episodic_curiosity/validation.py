"""The bound-checking primitives: a bad value is one UsageError naming the binding and the range.

The bottom floor: it imports nothing of the package but errors.py, so any module (PPOConfig's
`__post_init__`, a reward's constructor) can check its own values without an import circle.
Which parameters are checked with which rule, before a run directory is touched, is
`preflight.RULES`.
"""

import math
import numbers

from episodic_curiosity.errors import UsageError

NATURE_CNN_MIN_SIZE = 36  # the smallest frame the policy's three convolutions accept
PRECISIONS = ("fp32", "bf16")  # EpisodicCuriosity.precision, PPOConfig.precision
COMPILE_MODES = ("none", "default", "reduce-overhead", "max-autotune")  # torch.compile's modes


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
