"""R-network training data: random-policy episodes in shards, train and validation kept apart.

Layout: r_training_data/{train,valid}/shard_<n>.npy (frames [T, H, W, 3] uint8, whole episodes
one after another) + shard_<n>.lengths.npy (episode lengths); DONE (JSON: counts per split, the
scenario and the view) marks a finished generation. Shards are memory-mapped when read, so the
data may exceed RAM: the paper's 2.5M frames take 144 GB at the raw 120x160 view, 53 GB at 84x84.
"""

import json
import pathlib

import gin
import numpy as np
from absl import logging

from episodic_curiosity import envs
from episodic_curiosity.errors import UsageError
from episodic_curiosity.progress import Progress
from episodic_curiosity.validation import Count, Index, UnitOpen
from episodic_curiosity.workdir import atomic_write_text

SPLITS = ("train", "valid")


def _write_shard(directory: pathlib.Path, index: int, episodes):
    directory.mkdir(parents=True, exist_ok=True)
    frames = np.concatenate(episodes)
    base = directory / f"shard_{index:05d}"
    np.save(f"{base}.tmp.npy", frames)
    np.save(f"{base}.lengths.npy", np.asarray([len(e) for e in episodes], np.int64))
    pathlib.Path(f"{base}.tmp.npy").rename(f"{base}.npy")  # the frames file marks it complete


def read_meta(data_dir) -> dict:
    """The DONE record of a finished generation: counts, and (newer data) scenario and view."""
    return json.loads((pathlib.Path(data_dir) / "DONE").read_text())


def _remove_partial_shards(data_dir: pathlib.Path):
    """A generation starts over: shards of an unfinished one (killed, or run with other settings)
    past the ones this run rewrites would otherwise be read as this run's data, and an old DONE
    would mark a generation killed midway as complete."""
    (data_dir / "DONE").unlink(missing_ok=True)
    for split in SPLITS:
        for path in (data_dir / split).glob("shard_*"):
            path.unlink()


@gin.configurable(denylist=["data_dir", "scenario"])
def generate(data_dir, scenario: str, total_steps: Count = 2_500_000, num_envs: Count = 12,
             num_workers: Index = 2, shard_steps: Count = 20_000, valid_fraction: UnitOpen = 0.1,
             view: str = "raw", seed: Index = 0):
    """Plays a uniformly random policy on R_TRAINING level seeds; writes whole episodes in shards.

    view: 'raw' stores the scenario's full-resolution frames (what the paper's R-network sees),
    'policy' the 84x84 policy frames.
    """
    if view not in ("raw", "policy"):
        raise UsageError(f"generate.view must be 'raw' or 'policy', got {view!r}")
    data_dir = pathlib.Path(data_dir)
    _remove_partial_shards(data_dir)
    rng = np.random.default_rng(seed)
    factories = envs.env_factories(scenario, envs.Split.R_TRAINING, range(num_envs),
                                   keep_raw_obs=view == "raw")
    pending = {s: [] for s in SPLITS}
    counts = {s: {"shards": 0, "frames": 0, "episodes": 0} for s in SPLITS}

    def flush(split):
        _write_shard(data_dir / split, counts[split]["shards"], pending[split])
        counts[split]["shards"] += 1
        pending[split] = []

    final_key = "final_raw_obs" if view == "raw" else "final_obs"
    with envs.VecEnv(factories, num_workers) as vec, \
            Progress(total_steps, f"R-network data {scenario}", unit="steps") as bar:
        obs, infos = vec.reset()
        obs = _view(obs, infos, view)
        current = [[frame] for frame in obs]
        for step in range(0, total_steps, num_envs):
            obs, _, terminated, truncated, infos = vec.step(
                rng.integers(0, vec.action_space.n, num_envs))
            obs = _view(obs, infos, view)
            for i, info in enumerate(infos):
                if terminated[i] or truncated[i]:
                    current[i].append(info[final_key])
                    n = sum(c["episodes"] for c in counts.values())  # every 1/f-th: valid
                    split = ("valid" if int((n + 1) * valid_fraction) > int(n * valid_fraction)
                             else "train")
                    pending[split].append(np.stack(current[i]))
                    counts[split]["frames"] += len(current[i])
                    counts[split]["episodes"] += 1
                    if sum(map(len, pending[split])) >= shard_steps:
                        flush(split)
                    current[i] = [obs[i]]
                else:
                    current[i].append(obs[i])
            bar.update(num_envs, episodes=sum(c["episodes"] for c in counts.values()))
    for split in SPLITS:
        if pending[split]:
            flush(split)
    # A kill never leaves half a marker.
    atomic_write_text(data_dir / "DONE", json.dumps({**counts, "scenario": scenario, "view": view}))
    logging.info("R-network data written to %s: %s", data_dir, counts)
    return counts


def _view(obs, infos, view):
    return np.stack([info["raw_obs"] for info in infos]) if view == "raw" else obs


def is_complete(data_dir) -> bool:
    return (pathlib.Path(data_dir) / "DONE").is_file()


class Frames:
    """The shards of one split as one indexable collection of frames with episode lengths."""

    def __init__(self, directory):
        directory = pathlib.Path(directory)
        paths = sorted(p for p in directory.glob("shard_*.npy")
                       if not p.name.endswith((".lengths.npy", ".tmp.npy")))
        self.shards = [np.load(p, mmap_mode="r") for p in paths]
        lengths = [np.load(str(p)[:-4] + ".lengths.npy") for p in paths]
        if not self.shards or sum(len(s) for s in self.shards) == 0:
            raise UsageError(f"no R-network training data in {directory}; run "
                             "generate_r_training_data first (or check --r_training_data)")
        self.episode_lengths = np.concatenate(lengths)
        self._starts = np.cumsum([0] + [len(s) for s in self.shards])
        self.frame_shape = tuple(self.shards[0].shape[1:])

    def __len__(self):
        return int(self._starts[-1])

    def __getitem__(self, indices):
        indices = np.asarray(indices)
        shard = np.searchsorted(self._starts, indices, side="right") - 1
        out = np.empty((len(indices),) + self.shards[0].shape[1:], np.uint8)
        for s in np.unique(shard):
            mask = shard == s
            out[mask] = self.shards[s][indices[mask] - self._starts[s]]
        return out
