"""What every binary shares: bad flags and UsageErrors become one line on stderr and exit 2; a
failed write exits 1 and a stop signal 130 / 143, each with one line."""

import sys

from absl import app, flags

from episodic_curiosity import errors
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


def _first_line(error) -> str:
    # gin appends "In call to configurable ..." lines: the first line is the message.
    return (str(error).splitlines() or [type(error).__name__])[0]


def disk_full_line(error: OSError) -> str:
    """A full disk met outside the checkpoint writer (a CSV row, an R-network shard)."""
    where = f" {error.filename}" if error.filename else ""
    return (f"could not write{where}: {error.strerror}; free space there (or raise the file size "
            "limit, ulimit -f) and rerun the same command to resume from the last checkpoint")


def _lost_rank_line(error) -> str | None:
    """A collective that failed because another rank of the run died or hung (many ranks)."""
    from episodic_curiosity import distributed  # torch: only where a run has ranks
    if not distributed.active() or distributed.world_size() < 2:
        return None
    return (f"rank {distributed.rank()} of {distributed.world_size()} lost another rank of the "
            f"run ({' '.join(_first_line(error).split())[:160]}); rerun the same command to "
            "resume from the last checkpoint")


def run(main):
    """absl app.run for `main(argv)`: one line on stderr instead of a traceback for bad input
    (exit 2), a failed write (exit 1) and SIGINT / SIGTERM (exit 130 / 143)."""

    def guarded(argv):
        errors.install_stop_handlers()
        try:
            return main(argv)
        except UsageError as e:
            print(f"error: {_first_line(e)}", file=sys.stderr)
            sys.exit(2)
        except errors.WriteFailed as e:
            print(f"error: {_first_line(e)}", file=sys.stderr)
            sys.exit(1)
        except errors.Stopped as e:
            print(_first_line(e), file=sys.stderr, flush=True)
            sys.exit(e.exit_code)
        except (OSError, RuntimeError) as e:
            if (lost := _lost_rank_line(e)) is not None:
                print(f"error: {lost}", file=sys.stderr, flush=True)
                sys.exit(1)
            if (full := errors.disk_error(e)) is None:
                raise
            print(f"error: {disk_full_line(full)}", file=sys.stderr)
            sys.exit(1)

    app.run(guarded, flags_parser=_parse_flags)
