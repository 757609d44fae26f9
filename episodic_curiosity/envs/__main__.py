"""`python -m episodic_curiosity.envs --list`: every scenario with engine, actions, episode length."""

from absl import app, flags

from episodic_curiosity.envs import registry

flags.DEFINE_bool("list", True, "Print every registered scenario.")


def main(argv):
    del argv
    rows = [(s.name, s.engine, str(s.num_actions), str(s.episode_steps), s.description)
            for s in registry.listed()]
    header = ("scenario", "engine", "actions", "episode steps", "description")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(4)]
    for row in [header] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[4])


if __name__ == "__main__":
    app.run(main)
