"""One labelled frame per scenario in a PNG: how a user judges the worlds at a glance.

Each tile is the agent's 84x84 view (the policy's input, enlarged), picked as the most detailed of
the first few steps of a seeded episode; worlds that can draw themselves from above (the mazes)
add their map, with the agent, beside it.
"""

import cv2
import numpy as np

from episodic_curiosity.envs import registry
from episodic_curiosity.errors import UsageError
from episodic_curiosity.envs.splits import Split

_TILE = 168
_LABEL = 22


def _views(name: str, steps: int = 12):
    env = registry.make_env(name, Split.VALIDATION, 0)
    try:
        obs, _ = env.reset()
        frames = [obs]
        rng = np.random.default_rng(0)
        for _ in range(steps):
            obs, _, terminated, truncated, _ = env.step(int(rng.integers(env.action_space.n)))
            frames.append(obs)
            if terminated or truncated:
                break
        views = [max(frames, key=lambda f: f.std())]
        top_view = getattr(env.unwrapped, "render_top_view", None)
        if top_view is not None:
            views.append(top_view())
        return views
    finally:
        env.close()


def _tile(image, label):
    image = cv2.resize(image, (_TILE, _TILE), interpolation=cv2.INTER_NEAREST)
    banner = np.full((_LABEL, _TILE, 3), 255, np.uint8)
    cv2.putText(banner, label, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([banner, image])


def render(path: str, names=None, columns: int = 6) -> np.ndarray:
    """Writes the gallery PNG to `path` and returns it (RGB)."""
    tiles = []
    # Symbolic MiniGrid views are object indices, not pictures: their _rgb twins stand for them.
    default = [n for n in registry.names(available_only=True) if not registry.get(n).symbolic]
    for name in names or default:
        views = _views(name)
        tiles.append(_tile(views[0], name))
        if len(views) > 1:
            tiles.append(_tile(views[1], f"{name} (map)"))
    blank = np.full_like(tiles[0], 255)
    tiles += [blank] * (-len(tiles) % columns)
    rows = [np.concatenate(tiles[i:i + columns], 1) for i in range(0, len(tiles), columns)]
    gallery = np.concatenate(rows)
    if not cv2.imwrite(path, cv2.cvtColor(gallery, cv2.COLOR_RGB2BGR)):
        raise UsageError(f"could not write {path}: is it a .png path in an existing directory?")
    return gallery
