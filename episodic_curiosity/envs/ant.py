"""MuJoCo Ant seen through a camera on its torso, with no task reward (the paper's Ant task).

Physics is gymnasium 1.4's Ant-v5 model (its `ant.xml`, timestep 0.01 s, 5 substeps per control
step, torques in [-1, 1]); the floor is a grid of random-coloured 1 m tiles drawn from the level
seed, so that places look different (the original tiled random textures for the same reason).
"""

import os

# Headless rendering must be chosen before mujoco is imported. EGL (Mesa's surfaceless platform)
# works as root without a display and measured faster than OSMesa here; MUJOCO_GL=osmesa overrides.
os.environ.setdefault("MUJOCO_GL", "egl")

import cv2  # noqa: E402
import gymnasium as gym  # noqa: E402
import mujoco  # noqa: E402
import numpy as np  # noqa: E402

_ANT_XML = os.path.join(os.path.dirname(gym.__file__), "envs", "mujoco", "assets", "ant.xml")
_FLOOR_HALF_SIZE = 40  # metres; ant.xml's floor is 80 m x 80 m
_TILE_PIXELS = 8
_SUBSTEPS = 5  # Ant-v5's frame_skip: one control step = 0.05 s
_CYCLE = 4  # control steps per agent step (action repeat 4): one gait cycle = 0.2 s
_START_RANGE = 20.0  # metres: spawn anywhere in the central 40 m x 40 m, facing anywhere

# Discrete actions: open-loop gait cycles, one per agent step. Each leg's hip and ankle torque is
# amp * sin(2 pi t / cycle + phase); the phases (quarter turns, legs 1..4 as in ant.xml) were found
# by random search over 2000 gaits, keeping the one that moves most in the named direction from
# rest while staying upright. The set mirrors DMLab's navigation actions, so a random policy moves
# and the distance travelled means exploration, while turning and gait switching still must be
# learned from the first-person view.
GAITS = (  # (name, hip phases, ankle phases, amplitude)
    ("forward", (2, 1, 2, 1), (0, 3, 3, 2), 0.8),
    ("backward", (2, 3, 2, 3), (1, 0, 0, 2), 1.0),
    ("strafe_left", (3, 3, 2, 0), (0, 2, 0, 0), 1.0),
    ("strafe_right", (0, 3, 2, 3), (1, 1, 2, 3), 0.8),
    ("turn_left", (2, 0, 2, 2), (2, 0, 3, 0), 1.0),
    ("turn_right", (3, 1, 0, 2), (0, 0, 0, 0), 1.0),
)
_ACTUATOR_LEGS = (4, 1, 2, 3)  # ant.xml's actuators: (hip, ankle) of legs 4, 1, 2, 3 in that order


def gait_controls(hip_phases, ankle_phases, amplitude, steps=_CYCLE * _SUBSTEPS) -> np.ndarray:
    """(steps, 8) torques of one gait cycle, in ant.xml's actuator order."""
    t = np.arange(steps) / steps * 2 * np.pi
    controls = np.zeros((steps, 8))
    for i, leg in enumerate(_ACTUATOR_LEGS):
        controls[:, 2 * i] = amplitude * np.sin(t + hip_phases[leg - 1] * np.pi / 2)
        controls[:, 2 * i + 1] = amplitude * np.sin(t + ankle_phases[leg - 1] * np.pi / 2)
    return controls


def _model_xml() -> str:
    """ant.xml with a textured floor, no reflections and a forward camera on the torso."""
    with open(_ANT_XML) as f:
        xml = f.read()
    edits = [
        ('<texture builtin="checker" height="100" name="texplane" rgb1="0 0 0" '
         'rgb2="0.8 0.8 0.8" type="2d" width="100"/>',
         '<texture name="texplane" type="2d" file="floor.png"/>'),
        ('reflectance="0.5" shininess="1" specular="1" texrepeat="60 60"',
         'reflectance="0" shininess="0" specular="0" texrepeat="1 1"'),
        ('rgba="0.8 0.9 0.8 1" size="40 40 40" type="plane"',
         'rgba="1 1 1 1" size="40 40 40" type="plane"'),
        # x is the ant's forward direction (Ant-v5 rewards +x); the camera sits on the sphere's
        # front and looks along it, 90 degrees wide.
        ('<geom name="torso_geom"',
         '<camera name="head" pos="0.26 0 0.05" xyaxes="0 -1 0 0 0 1" fovy="90"/>\n'
         '      <geom name="torso_geom"'),
    ]
    for old, new in edits:
        if old not in xml:
            raise RuntimeError(f"gymnasium's ant.xml changed; cannot find {old!r}")
        xml = xml.replace(old, new)
    return xml


def _floor_png(rng: np.random.Generator) -> bytes:
    tiles = 2 * _FLOOR_HALF_SIZE
    colours = rng.integers(30, 256, (tiles, tiles, 3), dtype=np.uint8)
    image = cv2.resize(colours, (tiles * _TILE_PIXELS,) * 2, interpolation=cv2.INTER_NEAREST)
    return cv2.imencode(".png", image)[1].tobytes()


def _yaw_quaternion(yaw: float) -> np.ndarray:
    return np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])


class AntEnv(gym.Env):
    """First-person Ant: 6 gait actions, reward 0, `info["agent_xy"]` = torso (x, y) in metres.

    Episodes never terminate: an ant that falls on its back is set upright where it lies (heading
    kept, velocities zeroed) instead of ending the episode, which would stop a random policy's
    exploration after a few steps. Episodes end by the time limit (`episode_steps`, truncated).
    The level seed fixes the floor and the sequence of spawn poses, so the same seed and actions
    give the same episode.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 5}  # one 0.2 s gait cycle per step

    def __init__(self, seed: int, size: int = 84, episode_steps: int = 250):
        self._rng = np.random.default_rng(seed)
        self._model = mujoco.MjModel.from_xml_string(_model_xml(),
                                                     {"floor.png": _floor_png(self._rng)})
        self._model.vis.quality.shadowsize = 0
        self._model.vis.quality.offsamples = 0  # no multisample anti-aliasing
        self._data = mujoco.MjData(self._model)
        self._renderer = mujoco.Renderer(self._model, size, size)
        for flag in (mujoco.mjtRndFlag.mjRND_SHADOW, mujoco.mjtRndFlag.mjRND_REFLECTION,
                     mujoco.mjtRndFlag.mjRND_SKYBOX):
            self._renderer.scene.flags[flag] = 0
        self._gaits = [gait_controls(*g[1:]) for g in GAITS]
        self._episode_steps = episode_steps
        self._steps = 0
        self.action_space = gym.spaces.Discrete(len(GAITS))
        self.observation_space = gym.spaces.Box(0, 255, (size, size, 3), np.uint8)
        self._last_obs = np.zeros(self.observation_space.shape, np.uint8)

    def _observe(self):
        self._renderer.update_scene(self._data, camera="head")
        self._last_obs = self._renderer.render()
        return self._last_obs, {"agent_xy": self._data.qpos[:2].astype(np.float32)}

    def _place(self, x: float, y: float, yaw: float, noise: float):
        """Standing pose at (x, y) facing `yaw`, joints perturbed as Ant-v5's reset_noise_scale."""
        data = self._data
        mujoco.mj_resetData(self._model, data)
        data.qpos[:2] = x, y
        data.qpos[3:7] = _yaw_quaternion(yaw)
        data.qpos[7:] += self._rng.uniform(-noise, noise, self._model.nq - 7)
        data.qvel[:] = noise * self._rng.standard_normal(self._model.nv)
        mujoco.mj_forward(self._model, data)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        x, y = self._rng.uniform(-_START_RANGE, _START_RANGE, 2)
        self._place(x, y, self._rng.uniform(-np.pi, np.pi), noise=0.1)
        self._steps = 0
        return self._observe()

    def step(self, action):
        data = self._data
        for controls in self._gaits[int(action)]:
            data.ctrl[:] = controls
            mujoco.mj_step(self._model, data)
        if data.xmat[1][8] < 0:  # torso's up axis points down: on its back
            heading = np.arctan2(data.xmat[1][3], data.xmat[1][0])  # the body x axis, in the world
            self._place(data.qpos[0], data.qpos[1], heading, noise=0.0)
        self._steps += 1
        obs, info = self._observe()
        return obs, 0.0, False, self._steps >= self._episode_steps, info

    def render(self):
        return self._last_obs

    def close(self):
        self._renderer.close()
