"""The one exception type that reaches users as a single line and exit status 2."""

import re


class UsageError(Exception):
    """Bad input from the user (flag, scenario, gin binding, workdir, checkpoint).

    The message is one line naming the problem and the fix; binaries print it and exit 2.
    """


def not_one_of(kind: str, value: str, choices) -> str:
    """'unknown scenario 'x'; choose one of: a, b' -- the shape of every choice error."""
    return f"unknown {kind} '{value}'; choose one of: {', '.join(sorted(choices))}"


_SIZE_MISMATCH = re.compile(r"size mismatch for (\S+): copying a param with shape (.+?) from "
                            r"checkpoint, the shape in current model is (.+?)\.(?:\s|$)")


def load_error_summary(error: Exception, limit: int = 200) -> str:
    """torch's state_dict error in one short line that keeps what the user needs.

    A size mismatch becomes 'size mismatch for <param>: checkpoint <shape>, this model <shape>
    (and N more)'; anything else is cut at a word boundary, never mid-token.
    """
    text = " ".join(str(error).split())
    mismatches = _SIZE_MISMATCH.findall(text)
    if mismatches:
        name, saved, current = mismatches[0]
        more = f" (and {len(mismatches) - 1} more)" if len(mismatches) > 1 else ""
        return f"size mismatch for {name}: checkpoint {saved}, this model {current}{more}"
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " ..."
