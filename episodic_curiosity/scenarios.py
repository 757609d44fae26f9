"""Binary: every scenario, listed or pictured.

  python -m episodic_curiosity.scenarios --list      # engine, actions, episode length
  python -m episodic_curiosity.scenarios --gallery out.png [--scenarios=sparse,dense1]

--gallery writes one picture per scenario, as its player sees it, and maps. README's
`python -m episodic_curiosity.envs` runs this module (envs/__main__.py).
"""

from absl import flags

from episodic_curiosity import cli
from episodic_curiosity.envs import gallery, registry

flags.DEFINE_bool("list", False, "Print every registered scenario (the default).")
flags.DEFINE_string("gallery", None, "Write one picture per scenario (and maps) to this PNG file.")
flags.DEFINE_list("scenarios", None, "With --gallery: only these scenarios.")
FLAGS = flags.FLAGS


def _print_list():
    rows = [(s.name, s.engine, str(s.num_actions), str(s.episode_steps), s.description)
            for s in registry.listed()]
    header = ("scenario", "engine", "actions", "episode steps", "description")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(4)]
    for row in [header] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[4])


def main(argv):
    del argv
    if FLAGS.gallery:
        for name in FLAGS.scenarios or []:
            registry.get(name)  # unknown names: one line, before any env starts
        labels = gallery.render(FLAGS.gallery, FLAGS.scenarios).labels
        maps = sum(note == "map" for _, note in labels)
        print(f"wrote {FLAGS.gallery}: {len(labels)} tiles, {len(labels) - maps} scenarios "
              f"and {maps} maps")
    if FLAGS.list or not FLAGS.gallery:
        _print_list()


if __name__ == "__main__":
    cli.run(main)
