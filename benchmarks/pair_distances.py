"""How far apart in space are random-policy frames at each step gap? (the R-network's labels)

  python benchmarks/pair_distances.py noreward 3 1.0     # scenario, episodes, "near" distance
  python benchmarks/pair_distances.py doom_dense 8 64

Plays the uniformly random policy of generate_r_training_data on R_TRAINING levels, then, per
gap bin of the report card, the median distance between the agent's positions at the two frames
of a pair and the fraction of pairs closer than `near` map units (a maze cell: 1.0; Doom: 64).
"""

import sys

import numpy as np

from episodic_curiosity import envs
from episodic_curiosity.report_card import GAP_BINS, gap_pairs


def main(scenario, episodes, near):
    spec = envs.get(scenario)
    rng = np.random.default_rng(0)
    xy, lengths = [], []
    for e in range(episodes):
        env = envs.make_env(scenario, envs.Split.R_TRAINING, e)
        _, info = env.reset()
        positions = [info["agent_xy"]]
        for _ in range(spec.episode_steps - 1):
            _, _, terminated, truncated, info = env.step(int(rng.integers(spec.num_actions)))
            if terminated or truncated:
                break
            positions.append(info["agent_xy"])
        env.close()
        xy += positions
        lengths.append(len(positions))
    xy = np.asarray(xy, np.float64)
    print(scenario, "episode lengths", lengths)
    for lo, hi in GAP_BINS:
        pairs = gap_pairs(lengths, lo, hi, 4000, rng)
        if pairs is None:
            continue
        distance = np.linalg.norm(xy[pairs[0]] - xy[pairs[1]], axis=1)
        print(f"gap {lo}-{hi or ''}: median distance {np.median(distance):.2f}, "
              f"within {near}: {(distance < near).mean():.2f}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
