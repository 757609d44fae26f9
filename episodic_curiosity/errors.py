"""The one exception type that reaches users as a single line and exit status 2."""


class UsageError(Exception):
    """Bad input from the user (flag, scenario, gin binding, workdir, checkpoint).

    The message is one line naming the problem and the fix; binaries print it and exit 2.
    """


def not_one_of(kind: str, value: str, choices) -> str:
    """'unknown scenario 'x'; choose one of: a, b' -- the shape of every choice error."""
    return f"unknown {kind} '{value}'; choose one of: {', '.join(sorted(choices))}"
