"""Named [rows, ...] arrays in one shared-memory segment (multiprocessing.shared_memory).

The vector env's workers write their rows of a step here and the parent reads the whole batch
in place: no pickling or pipe copy of observations. The parent creates and unlinks every
segment; a worker only attaches by name. If the parent dies without closing, Python's
resource tracker (which spawned workers share with it) unlinks the segment when the last of
them is gone.
"""

import ctypes
import mmap
import os
from multiprocessing import shared_memory

import numpy as np

_ALIGN = 64  # bytes: each array starts on a cache line


def _layout(fields: dict) -> tuple[dict, int]:
    """{name: byte offset} of `fields` ({name: (shape, dtype)}) packed in order, and the size."""
    offsets, size = {}, 0
    for name, (shape, dtype) in fields.items():
        size = -(-size // _ALIGN) * _ALIGN
        offsets[name] = size
        size += int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    return offsets, max(size, 1)


def _own_mapping(shm: shared_memory.SharedMemory):
    """A mapping of the segment that lives as long as any view of it (SharedMemory.close()
    unmaps its own even while numpy views of it remain: a crash when one is read). None where
    segments are not files under /dev/shm."""
    path = f"/dev/shm/{shm.name.lstrip('/')}"
    if not os.path.exists(path):
        return None
    fd = os.open(path, os.O_RDWR)
    try:
        return mmap.mmap(fd, shm.size)
    finally:
        os.close(fd)


class SharedArrays:
    """`arrays[name]`: numpy views over one segment. `spec` (picklable) lets another process
    attach the same arrays with `SharedArrays.attach(spec)`."""

    def __init__(self, fields: dict, name: str | None = None):
        self.fields = {k: (tuple(int(n) for n in shape), np.dtype(dtype).str)
                       for k, (shape, dtype) in fields.items()}
        offsets, size = _layout(self.fields)
        self.owner = name is None
        self._shm = shared_memory.SharedMemory(name=name, create=self.owner, size=size)
        own = _own_mapping(self._shm)
        self._buffer = self._shm.buf if own is None else own
        self.arrays = {k: np.ndarray(shape, dtype, buffer=self._buffer, offset=offsets[k])
                       for k, (shape, dtype) in self.fields.items()}
        self._pinned = None

    @property
    def name(self) -> str:
        return self._shm.name

    @property
    def spec(self) -> tuple:
        return self.name, self.fields

    @classmethod
    def attach(cls, spec) -> "SharedArrays":
        name, fields = spec
        return cls(fields, name=name)

    def pin(self) -> bool:
        """Page-locks the segment for CUDA (cudaHostRegister), so a `non_blocking` copy of one
        of its arrays to the GPU is a DMA straight out of it; False where there is no CUDA."""
        import torch
        if self._pinned is not None or not torch.cuda.is_available():
            return self._pinned is not None
        pointer = np.frombuffer(self._buffer, np.uint8).ctypes.data
        error = torch.cuda.cudart().cudaHostRegister(pointer, self._shm.size, 0)
        if int(error) != 0:
            return False
        self._pinned = pointer
        return True

    def close(self) -> None:
        """Drops the arrays; the owner also unlinks the segment. A view still held elsewhere
        keeps its mapping (not the segment's name) until it is gone."""
        if self._shm is None:
            return
        if self._pinned is not None:
            import torch
            torch.cuda.cudart().cudaHostUnregister(ctypes.c_void_p(self._pinned).value)
            self._pinned = None
        self.arrays, self._buffer = {}, None
        self._shm.close()
        if self.owner:
            self._shm.unlink()
        self._shm = None


# The batch a vector env's workers write, and the info arrays they may add (EC's raw frames).
IN_BUFFER = "<in the shared buffer>"  # an info value the parent fills from the shared rows
INFO_ARRAYS = ("raw_obs",)


def step_fields(num_envs: int, observation_space) -> dict:
    rows = (num_envs,)
    return {"obs": (rows + tuple(observation_space.shape), observation_space.dtype),
            "reward": (rows, np.float32), "terminated": (rows, np.bool_),
            "truncated": (rows, np.bool_)}


def info_fields(infos: list, known) -> dict:
    """Fields for the INFO_ARRAYS that every env's info holds as arrays of one shape and dtype
    (others stay in the pickled infos)."""
    fields = {}
    for key in INFO_ARRAYS:
        values = [info.get(key) for info in infos]
        if key in known or not all(isinstance(v, np.ndarray) for v in values):
            continue
        if len({(v.shape, v.dtype.str) for v in values}) == 1:
            fields[key] = ((len(infos),) + values[0].shape, values[0].dtype)
    return fields


def _is_marker(value) -> bool:
    return isinstance(value, str) and value == IN_BUFFER


class WorkerRows:
    """A worker's rows (from `start`) of its parent's shared arrays: it writes its envs'
    observations, rewards, episode ends and info arrays there and sends only the infos."""

    def __init__(self, start: int):
        self.start, self.segments, self.arrays = start, [], {}

    def attach(self, spec) -> None:
        self.segments.append(SharedArrays.attach(spec))
        self.arrays.update(self.segments[-1].arrays)

    def write(self, results, step: bool) -> list:
        """Writes step (obs, reward, terminated, truncated, info) or reset (obs, info) results;
        returns the infos, each shared info array replaced by IN_BUFFER."""
        arrays, infos = self.arrays, []
        keys = [k for k in arrays if k in INFO_ARRAYS]
        obs_rows = arrays["obs"]
        for row, result in enumerate(results, self.start):
            obs, info = (result[0], result[4]) if step else result
            if obs.shape != obs_rows.shape[1:] or obs.dtype != obs_rows.dtype:
                raise ValueError(f"observation {obs.shape} {obs.dtype} does not fit the shared "
                                 f"buffer's {obs_rows.shape[1:]} {obs_rows.dtype}: use the "
                                 "'pipe' transport for this env")
            obs_rows[row] = obs
            if step:
                arrays["reward"][row], arrays["terminated"][row], arrays["truncated"][row] = \
                    result[1:4]
            for key in keys:
                if key in info:
                    arrays[key][row] = info[key]
                    info[key] = IN_BUFFER
            infos.append(info)
        return infos

    def close(self) -> None:
        for segment in self.segments:
            segment.close()
        self.segments, self.arrays = [], {}


class SharedBatch:
    """The parent's side: owns the segments, reads rows out as copies (the caller keeps them;
    the workers overwrite the buffer on the next step)."""

    def __init__(self, num_envs: int, observation_space):
        self.segments = [SharedArrays(step_fields(num_envs, observation_space))]
        self.arrays = dict(self.segments[0].arrays)

    def add(self, fields: dict) -> tuple:
        """A new segment for `fields`; its spec, for the workers to attach."""
        self.segments.append(SharedArrays(fields))
        self.arrays.update(self.segments[-1].arrays)
        return self.segments[-1].spec

    def read(self, rows: slice, infos: list, step: bool = True):
        """Step (obs, rewards, terminated, truncated, infos) or reset obs of envs `rows`; the
        infos' IN_BUFFER markers are replaced by their rows' arrays."""
        arrays = self.arrays
        for key in (k for k in arrays if k in INFO_ARRAYS):
            for info, value in zip(infos, arrays[key][rows]):
                if _is_marker(info.get(key)):
                    info[key] = value.copy()  # one array per info, as the pipes give
        obs = arrays["obs"][rows].copy()
        if not step:
            return obs
        return (obs, arrays["reward"][rows].copy(), arrays["terminated"][rows].copy(),
                arrays["truncated"][rows].copy(), infos)

    def pin(self) -> bool:
        return all([segment.pin() for segment in self.segments])

    def close(self) -> None:
        for segment in self.segments:
            segment.close()
        self.segments, self.arrays = [], {}
