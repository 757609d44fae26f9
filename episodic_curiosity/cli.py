"""What every binary shares: bad flags and UsageErrors become one line on stderr and exit 2."""

import sys

from absl import app, flags

from episodic_curiosity.errors import UsageError


def _parse_flags(argv):
    try:
        return flags.FLAGS(argv)
    except flags.Error as e:
        print(f"error: {e}; run with --help for the valid flags", file=sys.stderr)
        sys.exit(2)


def define_gin_flags():
    """--gin_config / --gin_bindings, the same in every binary."""
    flags.DEFINE_multi_string("gin_config", [], "Gin files, applied in order.")
    flags.DEFINE_multi_string("gin_bindings", [], "Gin bindings applied after the files.")


def define_accept_config_change():
    """--accept_config_change, the same in every binary that resumes runs (docs/resuming.md)."""
    flags.DEFINE_boolean("accept_config_change", False, "Resume a run whose configuration "
                         "differs from this one in more than its length, cadences, device and "
                         "threads: the change is appended, dated, to the run's "
                         "config_history.jsonl. Without it such a resume is refused.")


def run(main):
    """absl app.run for `main(argv)`, exiting 2 with one line on bad input."""

    def guarded(argv):
        try:
            return main(argv)
        except UsageError as e:
            # gin appends "In call to configurable ..." lines: the first line is the message.
            print(f"error: {str(e).splitlines()[0]}", file=sys.stderr)
            sys.exit(2)

    app.run(guarded, flags_parser=_parse_flags)
