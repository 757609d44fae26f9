"""Maze steps/s rendering the policy's 84x84 directly vs DMLab's 160x120 resized to 84x84.

  python benchmarks/maze_frame_cost.py

The R-network's raw view needs the 160x120 render; this measures what it costs, interleaved in
one process (CPU time of the process, so a loaded machine lowers both alike).
"""

import time

import cv2
import numpy as np

from episodic_curiosity.envs import maze, maze_tasks


def main(repeats=4, steps=300):
    shapes = [(84, 84), (120, 160)]
    worlds = {s: maze.MazeEnv(maze_tasks.GoalTask(goal_reward=0.0), 777, 1800, frame_shape=s)
              for s in shapes}
    for world in worlds.values():
        world.reset()
    rates = {s: [] for s in shapes}
    rng = np.random.default_rng(0)
    for _ in range(repeats):
        for shape, world in worlds.items():
            start = time.process_time()
            for _ in range(steps):
                obs, *_ = world.step(int(rng.integers(9)))
                if shape != (84, 84):
                    cv2.resize(obs, (84, 84), interpolation=cv2.INTER_AREA)
            rates[shape].append(steps / (time.process_time() - start))
    for shape, r in rates.items():
        print(f"{shape[1]}x{shape[0]}: {np.median(r):.0f} steps/s (median of {np.round(r)})")
    print(f"ratio 160x120 / 84x84: {np.median(rates[shapes[1]]) / np.median(rates[shapes[0]]):.2f}")


if __name__ == "__main__":
    main()
