"""Video frames of an episode: the first-person view with a bonus bar, beside the top-down map
with the trajectory coloured by the bonus and the positions held in episodic memory.

Sizes are multiples of 16, so ffmpeg encodes the frames as they are (no rescaling).
"""

import cv2
import imageio
import numpy as np

from episodic_curiosity.analysis import maps

VIEW = 336  # the 84x84 view, 4x, nearest neighbour: what the policy and R-network saw
BAR = 32
HEIGHT = VIEW + BAR
MAP = HEIGHT
_NEUTRAL = np.array([40, 110, 220], float)  # no bonus known (no R-network): blue
_POSITIVE = np.array([30, 170, 30], float)
_NEGATIVE = np.array([220, 40, 40], float)
_MEMORY = (150, 60, 200)  # purple rings: positions of the frames in memory
_AGENT = (0, 0, 0)


def bonus_colour(bonus: float | None, scale: float) -> tuple:
    """Green for a positive bonus, red for a negative one, paler the smaller |bonus| / scale
    (never so pale that a path of near-zero bonuses disappears)."""
    if bonus is None:
        return tuple(int(v) for v in _NEUTRAL)
    strength = min(abs(bonus) / scale, 1.0) * 0.55 + 0.45
    base = _POSITIVE if bonus > 0 else _NEGATIVE
    return tuple(int(v) for v in base * strength + 255 * (1 - strength))


def view_with_bar(obs: np.ndarray, value: float | None, scale: float, label: str) -> np.ndarray:
    """[HEIGHT, VIEW, 3]: the observation upscaled, and a bar centred on 0 under it."""
    view = cv2.resize(obs, (VIEW, VIEW), interpolation=cv2.INTER_NEAREST)
    bar = np.full((BAR, VIEW, 3), 255, np.uint8)
    mid = VIEW // 2
    cv2.line(bar, (mid, 2), (mid, BAR - 3), (120, 120, 120), 1)
    if value is not None:
        length = int(np.clip(value / scale, -1, 1) * (mid - 4))
        colour = bonus_colour(value, scale)
        cv2.rectangle(bar, (min(mid, mid + length), 6), (max(mid, mid + length), BAR - 7),
                      colour, -1)
    cv2.putText(bar, label, (4, BAR - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1,
                cv2.LINE_AA)
    return np.concatenate([view, bar])


class MapPanel:
    """The map of one episode; the trajectory accumulates, memory and agent are redrawn."""

    def __init__(self, top_down: maps.TopDownMap, scale: float):
        self.map, self.scale = top_down, scale
        self.trail = top_down.image.copy()
        self.last = None

    def step(self, xy, bonus):
        point = self.map.to_pixel(xy)
        if self.last is not None:
            cv2.line(self.trail, self.last, point, bonus_colour(bonus, self.scale), 3,
                     cv2.LINE_AA)
        else:
            cv2.circle(self.trail, point, 4, (0, 0, 0), 1, cv2.LINE_AA)  # where it started
        self.last = point

    def render(self, memory_xy, text: str) -> np.ndarray:
        image = self.trail.copy()
        for xy in memory_xy:
            cv2.circle(image, self.map.to_pixel(xy), 4, _MEMORY, 1, cv2.LINE_AA)
        if self.last is not None:
            cv2.circle(image, self.last, 5, _AGENT, -1, cv2.LINE_AA)
        cv2.putText(image, text, (6, MAP - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1,
                    cv2.LINE_AA)
        return image


def write_mp4(path, frames, fps: int = 15) -> None:
    """H.264 through the ffmpeg that imageio-ffmpeg ships; frames uint8 [H, W, 3]."""
    with imageio.get_writer(str(path), fps=fps, codec="libx264", quality=7,
                            macro_block_size=16, ffmpeg_log_level="error") as writer:
        for frame in frames:
            writer.append_data(np.ascontiguousarray(frame))


def upscale(frames, factor: int = 4) -> np.ndarray:
    """Observation frames enlarged for a watchable video (nearest neighbour)."""
    frames = np.asarray(frames)
    return frames.repeat(factor, axis=1).repeat(factor, axis=2)


def read_frames(path) -> np.ndarray:
    """All frames of a video file, uint8 [T, H, W, 3]."""
    with imageio.get_reader(str(path), format="FFMPEG") as reader:
        return np.stack([frame for frame in reader])


def frame_strip(frames, count: int, width: int | None = None) -> np.ndarray:
    """`count` evenly spaced frames side by side (first and last included), optionally scaled to
    `width` pixels in all: a still of a video for a README or a paper."""
    frames = np.asarray(frames)
    picks = np.linspace(0, len(frames) - 1, count).round().astype(int)
    strip = np.concatenate([frames[i] for i in picks], axis=1)
    if width:
        height = int(round(strip.shape[0] * width / strip.shape[1]))
        strip = cv2.resize(strip, (width, height), interpolation=cv2.INTER_AREA)
    return strip
