"""First-person 3-D mazes on MiniWorld, built from labmaze layouts: the DMLab scenarios rebuilt.

Every episode generates a new maze from its episode seed (DMLab regenerates layout, goal and
theme per episode too), with one floor square per maze cell, a wall texture per room and the
paper's 9 DMLab actions. Rendering is offscreen through pyglet's headless (EGL) contexts, into a
plain 8-bit framebuffer: no multisampling, which is most of the cost of
MiniWorld's default one at 84x84.
"""

import contextlib
import ctypes
import io
import math

import numpy as np
import pyglet

pyglet.options["headless"] = True  # no display: EGL pbuffer contexts
pyglet.options["debug_gl"] = False  # a glGetError after every call costs more than the call

from gymnasium import spaces  # noqa: E402  (after the pyglet options, before miniworld)
import cv2  # noqa: E402
from miniworld import entity, miniworld, opengl, utils  # noqa: E402
from miniworld.params import DEFAULT_PARAMS  # noqa: E402
from pyglet import gl  # noqa: E402

from episodic_curiosity.envs import maze_layout, splits  # noqa: E402
from episodic_curiosity.envs.maze_tasks import Item  # noqa: E402

CELL_METERS = 2.0
FORWARD_CELLS = 0.2  # DMLab: ~21 of 100 units per 4-frame step
TURN_DEGREES = 20.0
FIELD_OF_VIEW = 90.0  # DMLab's, horizontal; MiniWorld's 60 shows little more than the nearest wall
FRAME_SHAPE = (120, 160)  # (height, width): DMLab's view, which the R-network sees; the policy
# gets it resized to 84x84 by the wrappers, as DMLab frames are.


def _params(frame_shape):
    """MiniWorld parameters; its field of view is vertical: derived from the horizontal 90."""
    height, width = frame_shape
    params = DEFAULT_PARAMS.no_random()
    params.set("forward_step", FORWARD_CELLS * CELL_METERS)
    params.set("turn_step", TURN_DEGREES)
    vertical = 2 * math.degrees(math.atan(math.tan(math.radians(FIELD_OF_VIEW / 2)) * height
                                          / width))
    params.set("cam_fov_y", vertical)  # the agent reads it from the parameters at reset
    return params

# The original's DMLab action set: (forward, strafe right, turn left) per agent step.
ACTIONS = (
    ("forward", 1, 0, 0), ("backward", -1, 0, 0), ("strafe_left", 0, -1, 0),
    ("strafe_right", 0, 1, 0), ("look_left", 0, 0, 1), ("look_right", 0, 0, -1),
    ("look_left_forward", 1, 0, 1), ("look_right_forward", 1, 0, -1), ("fire", 0, 0, 0),
)
# Opaque textures only: MiniWorld draws the transparent ones (metal_grill, picket_fence) black.
_WALL_TEXTURES = ("brick_wall", "cinder_blocks", "concrete", "drywall", "stucco", "wood_planks",
                  "rock", "cardboard", "marble", "slime")
_FLOOR_TEXTURES = ("floor_tiles_bw", "concrete_tiles", "asphalt", "wood", "grass", "water")


class _Framebuffer:
    """An 8-bit RGB colour + depth offscreen target read back with one glReadPixels."""

    def __init__(self, height: int, width: int):
        self.width, self.height = width, height
        self.fbo = gl.GLuint(0)
        gl.glGenFramebuffers(1, ctypes.byref(self.fbo))
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, self.fbo)
        for storage, attachment in ((gl.GL_RGBA8, gl.GL_COLOR_ATTACHMENT0),
                                    (gl.GL_DEPTH_COMPONENT16, gl.GL_DEPTH_ATTACHMENT)):
            buffer = gl.GLuint(0)
            gl.glGenRenderbuffers(1, ctypes.byref(buffer))
            gl.glBindRenderbuffer(gl.GL_RENDERBUFFER, buffer)
            gl.glRenderbufferStorage(gl.GL_RENDERBUFFER, storage, width, height)
            gl.glFramebufferRenderbuffer(gl.GL_FRAMEBUFFER, attachment, gl.GL_RENDERBUFFER, buffer)
        status = gl.glCheckFramebufferStatus(gl.GL_FRAMEBUFFER)
        if status != gl.GL_FRAMEBUFFER_COMPLETE:
            raise RuntimeError(f"offscreen framebuffer incomplete (status {status:#x})")
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, 0)
        self._pixels = np.zeros((height, width, 3), np.uint8)

    def bind(self):
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, self.fbo)
        gl.glViewport(0, 0, self.width, self.height)

    def resolve(self):
        gl.glPixelStorei(gl.GL_PACK_ALIGNMENT, 1)
        gl.glReadPixels(0, 0, self.width, self.height, gl.GL_RGB, gl.GL_UNSIGNED_BYTE,
                        self._pixels.ctypes.data_as(ctypes.POINTER(gl.GLubyte)))
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, 0)
        return self._pixels[::-1].copy()  # GL's origin is the lower left corner


def _preload_texture(name: str):
    """Decodes a MiniWorld texture with OpenCV into its cache: pyglet's own PNG path converts
    pixel formats with regular expressions, about 2 s per texture on this CPU."""
    path = utils.get_file_path("textures", f"{name}_1", "png")
    if path in opengl.Texture.tex_cache:
        return
    rgba = cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGBA)[::-1]
    height, width = rgba.shape[:2]
    image = pyglet.image.ImageData(width, height, "RGBA", np.ascontiguousarray(rgba).tobytes())
    texture = image.get_texture()
    gl.glBindTexture(texture.target, texture.id)
    gl.glGenerateMipmap(gl.GL_TEXTURE_2D)
    gl.glTexParameteri(gl.GL_TEXTURE_2D, gl.GL_TEXTURE_MAG_FILTER, gl.GL_LINEAR)
    gl.glTexParameteri(gl.GL_TEXTURE_2D, gl.GL_TEXTURE_MIN_FILTER, gl.GL_LINEAR_MIPMAP_LINEAR)
    gl.glBindTexture(gl.GL_TEXTURE_2D, 0)
    opengl.Texture.tex_cache[path] = opengl.Texture(texture, name)


class MazeEnv(miniworld.MiniWorldEnv):
    """One DMLab-analogue scenario: a task (maze_tasks) in a fresh labmaze maze per episode.

    `info["agent_xy"]` is the agent's position in maze cells (x = column, y = row), so coverage
    counts maze cells; `info["agent_cell"]` the (row, col) it stands on.

    Seeding: by default episode k's maze comes from (level seed, k), which keeps the seed splits
    disjoint. `reset(seed=s)`, as in gymnasium, restarts the sequence from s: that reset's maze
    and every later one follow from (s, k), so the same seed gives the same mazes in any env.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 15}  # DMLab: 60 fps, action repeat 4

    def __init__(self, task, seed: int, episode_steps: int, fire: bool = True,
                 frame_shape: tuple = FRAME_SHAPE):
        """frame_shape: (height, width) rendered; (84, 84) renders the policy's frame directly."""
        self._task, self._level_seed, self._episode = task, seed, -1
        self._explicit_seed = None  # the last reset(seed=...), which replaces the level seed
        self._list_id = self._items_list_id = None
        self._items_dirty = True
        height, width = frame_shape
        with contextlib.redirect_stdout(io.StringIO()):  # MiniWorld prints its MSAA fallback
            super().__init__(max_episode_steps=episode_steps, obs_width=width, obs_height=height,
                             window_width=168, window_height=168, params=_params(frame_shape))
        self.obs_fb = _Framebuffer(height, width)
        self._episode = -1  # the base class reset once already: count from zero again
        self.action_space = spaces.Discrete(len(ACTIONS) if fire else len(ACTIONS) - 1)

    # --- world generation -------------------------------------------------------------------

    def _gen_world(self):
        self._episode += 1
        if self._explicit_seed is None:
            seed = splits.episode_seed(self._level_seed, self._episode)
        else:
            seed = splits.seeded_episode_seed(self._explicit_seed, self._episode)
        self._rng = np.random.default_rng(seed)
        self.layout = maze_layout.generate(seed, has_doors=self._task.has_doors,
                                           **self._task.maze)
        self.plan = self._task.plan(self.layout, self._rng)
        self._keys, self._done, self._pickups = set(), False, 0
        walls = self._rng.permutation(len(_WALL_TEXTURES))
        room_texture = {letter: _WALL_TEXTURES[walls[i % len(walls)]]
                        for i, letter in enumerate(["."] + self.layout.room_letters())}
        floor = _FLOOR_TEXTURES[int(self._rng.integers(len(_FLOOR_TEXTURES)))]
        for texture in {*room_texture.values(), floor, "ceiling_tiles"}:
            _preload_texture(texture)
        rooms = {}
        for r, c in self.layout.floor_cells:
            rooms[r, c] = self.add_rect_room(
                min_x=c * CELL_METERS, max_x=(c + 1) * CELL_METERS, min_z=r * CELL_METERS,
                max_z=(r + 1) * CELL_METERS, wall_tex=room_texture[self.layout.rooms[r, c]],
                floor_tex=floor, ceil_tex="ceiling_tiles")
        for (r, c), room in rooms.items():
            if (r, c + 1) in rooms:
                self.connect_rooms(room, rooms[r, c + 1], min_z=room.min_z, max_z=room.max_z)
            if (r + 1, c) in rooms:
                self.connect_rooms(room, rooms[r + 1, c], min_x=room.min_x, max_x=room.max_x)
        for item in self.plan.items:
            self._add_item(item)
        self._respawn()

    def _add_item(self, item: Item):
        if item.kind == "door":
            across_x = self.layout.grid[item.cell] == "H"  # corridor runs along z
            ent = entity.Box(item.color or "grey", size=(CELL_METERS, 2.4, 0.3))
            direction = 0.0 if across_x else math.pi / 2
        elif item.kind == "key":
            ent, direction = entity.Key(item.color), 0.0
        elif item.kind == "goal":
            ent, direction = entity.Box("green", size=0.7), 0.0
        else:
            ent = entity.MeshEnt("medkit" if item.reward > 0 else "barrel", 0.6)
            direction = 0.0
        ent.randomize(self.params, None)
        self.place_entity(ent, pos=self._center(item.cell), dir=direction)
        ent.item = item
        self._items_dirty = True

    def _center(self, cell):
        r, c = cell
        return np.array([(c + 0.5) * CELL_METERS, 0.0, (r + 0.5) * CELL_METERS])

    def _respawn(self):
        spawn = self.plan.spawns[int(self._rng.integers(len(self.plan.spawns)))]
        self.place_agent(pos=self._center(spawn), dir=float(self._rng.uniform(-math.pi, math.pi)))

    # --- collisions and touches ---------------------------------------------------------------

    def intersect(self, ent, pos, radius):
        """Walls and closed doors block; pickups are walked into, not around."""
        px, _, pz = pos
        if miniworld.intersect_circle_segs(np.array([px, 0, pz]), radius, self.wall_segs):
            return True
        for other in self.entities:
            if other is not ent and getattr(other, "item", None) is not None \
                    and other.item.kind == "door":
                if np.hypot(other.pos[0] - px, other.pos[2] - pz) < radius + other.radius:
                    return other
        return None

    def _touch(self) -> float:
        reward = 0.0
        for ent in list(self.entities):
            item = getattr(ent, "item", None)
            if item is None:
                continue
            gap = np.hypot(*(ent.pos - self.agent.pos)[[0, 2]]) - ent.radius - self.agent.radius
            if gap > (0.25 if item.kind == "door" else 0.0):
                continue
            if item.kind == "door":
                if item.color is None or item.color not in self._keys:
                    continue
                reward += item.reward
            elif item.kind == "key":
                self._keys.add(item.color)
                reward += item.reward
            elif item.kind == "goal":
                reward += item.reward
                if self._task.goal_ends_episode:
                    self._done = True
                else:
                    self._respawn()
                continue  # the goal stays where it is
            else:
                reward += item.reward
                self._pickups += 1
                if self._pickups >= getattr(self._task, "pickups_to_end", math.inf):
                    self._done = True
            self.entities.remove(ent)
            self._items_dirty = True
        return reward

    # --- gymnasium ----------------------------------------------------------------------------

    def reset(self, *, seed=None, options=None):
        if seed is not None:
            self._explicit_seed, self._episode = seed, -1
        obs, _ = super().reset(seed=seed, options=options)
        return obs, self._info()

    def step(self, action):
        _, forward, strafe, turn = ACTIONS[int(action)]
        self.step_count += 1
        if turn:
            self.turn_agent(turn * TURN_DEGREES)
        if forward or strafe:
            step = FORWARD_CELLS * CELL_METERS
            self.move_agent(forward * step, strafe * step)
        reward = self._touch()
        obs = self.render_obs()
        truncated = not self._done and self.step_count >= self.max_episode_steps
        return obs, reward, self._done, truncated, self._info()

    def _info(self):
        x, _, z = self.agent.pos / CELL_METERS
        return {"agent_xy": np.array([x, z], np.float32),
                "agent_cell": (int(math.floor(z)), int(math.floor(x)))}

    # --- rendering: a display list per env (MiniWorld shares list 1 between all envs) ----------

    def _render_static(self):
        if self._list_id is None:
            self._list_id = gl.glGenLists(1)
        gl.glNewList(self._list_id, gl.GL_COMPILE)
        gl.glLightfv(gl.GL_LIGHT0, gl.GL_POSITION, (gl.GLfloat * 4)(*self.light_pos + [1]))
        gl.glLightfv(gl.GL_LIGHT0, gl.GL_AMBIENT, (gl.GLfloat * 4)(*self.light_ambient))
        gl.glLightfv(gl.GL_LIGHT0, gl.GL_DIFFUSE, (gl.GLfloat * 4)(*self.light_color))
        for capability in (gl.GL_LIGHTING, gl.GL_LIGHT0, gl.GL_COLOR_MATERIAL, gl.GL_TEXTURE_2D):
            gl.glEnable(capability)
        gl.glColorMaterial(gl.GL_FRONT_AND_BACK, gl.GL_AMBIENT_AND_DIFFUSE)
        for room in self.rooms:
            room._render()
        gl.glEndList()

    def _render_world(self, frame_buffer, render_agent):
        """Static world, then the items (recompiled only when one is added or taken)."""
        gl.glCallList(self._list_id)
        if self._items_dirty:
            if self._items_list_id is None:
                self._items_list_id = gl.glGenLists(1)
            gl.glNewList(self._items_list_id, gl.GL_COMPILE)
            for ent in self.entities:
                if ent is not self.agent:
                    ent.render()
            gl.glEndList()
            self._items_dirty = False
        gl.glCallList(self._items_list_id)
        if render_agent:
            self.agent.render()
        return frame_buffer.resolve()

    def render(self):
        return self.render_obs()

    def close(self):
        if self._list_id is not None:
            gl.glDeleteLists(self._list_id, 1)
            self._list_id = self._items_list_id = None
        self._items_dirty = True
        super().close()
