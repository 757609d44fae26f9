"""Mirrors one run directory to gs://BUCKET/<prefix>/ and back, safely across preemptions.

Files other than checkpoints are uploaded when their size or crc32c differs from the bucket's copy,
or when the bucket's copy changed under this writer (its generation is not the one this writer
last wrote or read). A checkpoint is uploaded create-only (if_generation_match=0) under a name
unique to this writer, then published by rewriting `checkpoints/LATEST.json` with
if_generation_match=<the pointer generation this writer last saw>. A writer that was replaced (a
preempted VM still running while a new one restored the run) gets 412 there, raises StaleWriter,
deletes the checkpoint object it could not publish and must stop: it can never publish over a
newer run. Ownership (the pointer's generation) is checked again before every object written, so
a replaced writer stops at its next write; a write that slips in between that check and a
takeover is overwritten by the owner's next pass, which sees the object's generation change.

The pointer's first version is a claim naming no checkpoint ("object": null): a run preempted
before its first publish restores as a fresh run and is claimed again.

The pointer carries the writer's `config_hash` (run_config.config_hash: what the configuration
trains). A writer with another hash is refused before it downloads or claims anything, so a
second fleet launched with another configuration onto the same prefix neither continues the
first one's runs nor stops its VMs; with accept_config_change it takes the runs over (its
trainer then appends the change to each run's config_history.jsonl). A pointer without a hash
(an older fleet's) is taken over by any writer.

Publication order keeps the bucket consistent for the trainer's resume: the CSVs of a pass are
uploaded before the checkpoint they cover is published, so the published step is never past the
last CSV row in the bucket, and the resume cuts the rows after it.
"""

import base64
import json
import os
import pathlib
import uuid

import google_crc32c
from absl import logging
from google.api_core import exceptions
from google.cloud import storage

from episodic_curiosity.errors import UsageError
from episodic_curiosity.progress import Progress

POINTER = "checkpoints/LATEST.json"


def _checkpoint():
    """episodic_curiosity.checkpoint imports torch (seconds): only the VM side needs it."""
    from episodic_curiosity import checkpoint
    return checkpoint


class StaleWriter(Exception):
    """Another writer published or claimed this run after us: stop syncing."""


def crc32c_of_file(path) -> str:
    """Base64 of the big-endian crc32c, the form Cloud Storage reports in `blob.crc32c`."""
    checksum = google_crc32c.Checksum()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            checksum.update(chunk)
    return base64.b64encode(checksum.digest()).decode()


class BucketSync:
    """One writer of one run directory. Use restore() (which claims the run) before sync()."""

    def __init__(self, bucket: storage.Bucket, prefix: str, run_dir, writer_id: str | None = None,
                 config_hash: str | None = None):
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.run_dir = pathlib.Path(run_dir)
        self.writer_id = writer_id or uuid.uuid4().hex[:12]
        self.config_hash = config_hash  # None: not checked, not written (tests, older callers)
        self._remote = {}  # relative name -> (size, crc32c, generation) as this writer left it
        self._hash_cache = {}  # relative name -> ((size, mtime_ns), crc32c)
        self._pointer_generation = 0  # 0: no pointer yet (create-only)
        self._published = None  # the pointer's content as last written or read

    def _name(self, rel: str) -> str:
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def _list_remote(self):
        start = len(self._name(""))
        return {b.name[start:]: b for b in self.bucket.client.list_blobs(
            self.bucket, prefix=self._name(""))}

    def _read_pointer(self):
        blob = self.bucket.get_blob(self._name(POINTER))
        if blob is None:
            return None, 0
        return json.loads(blob.download_as_bytes()), blob.generation

    # -- restore ---------------------------------------------------------------------------------

    def restore(self, accept_config_change: bool = False) -> int | None:
        """Downloads the run and claims it; returns the restored checkpoint step (None: fresh).

        The claim rewrites the pointer (adding this writer's id) under if_generation_match, so an
        older writer still running elsewhere sees a foreign generation and stops.
        """
        remote = self._list_remote()
        pointer, generation = self._read_pointer()
        self._check_config(pointer, accept_config_change)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        files = {rel: blob for rel, blob in remote.items() if not rel.startswith("checkpoints/")}
        with Progress(sum(b.size or 0 for b in files.values()),
                      f"restore gs://{self.bucket.name}/{self.prefix}", unit="B") as bar:
            for rel, blob in files.items():
                self._download_verified(blob, self.run_dir / rel, blob.crc32c)
                self._remote[rel] = (blob.size, blob.crc32c, blob.generation)
                bar.update(blob.size or 0)
        step = None
        if pointer is not None and pointer.get("object") is None:
            # A claim only: the run was stopped before its first checkpoint was published.
            # The CSV rows it uploaded are cut by the trainer's fresh start.
            logging.info("%s: claimed by %s, nothing published: a fresh run", POINTER,
                         pointer.get("writer"))
            pointer = None
        if pointer is not None:
            blob = remote.get(pointer["object"])
            if blob is None:
                raise UsageError(f"gs://{self.bucket.name}/{self._name(POINTER)} names "
                                 f"{pointer['object']}, which is missing; delete the pointer to "
                                 "restart the run from scratch")
            step = pointer["step"]
            local = _checkpoint().path_for(self.run_dir / "checkpoints", step)
            self._download_verified(blob, local, pointer["crc32c"])
        self._published = pointer
        self._pointer_generation = generation
        self._write_pointer(dict(pointer or {"step": None, "object": None, "crc32c": None}))
        return step

    def _check_config(self, pointer, accept: bool):
        """UsageError (nothing written) when the run was trained with another configuration."""
        theirs = (pointer or {}).get("config_hash")
        if self.config_hash is None or theirs is None or theirs == self.config_hash:
            return
        where = f"gs://{self.bucket.name}/{self.prefix}"
        if accept:
            logging.warning("%s: configuration %s replaces %s (accepted)", where,
                            self.config_hash, theirs)
            return
        raise UsageError(f"{where} was trained with configuration {theirs}, this one is "
                         f"{self.config_hash} (the run's own: its config.gin and "
                         "config_history.jsonl); to continue it with this one, launch with "
                         "--accept_config_change; to start other runs, pass another --prefix")

    def _download_verified(self, blob, path: pathlib.Path, expected_crc32c: str):
        """Downloads to a temporary file, checks crc32c, then renames into place."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.download")
        blob.download_to_filename(tmp)
        actual = crc32c_of_file(tmp)
        if actual != expected_crc32c:
            tmp.unlink()
            raise UsageError(f"gs://{self.bucket.name}/{blob.name} has crc32c {actual}, "
                             f"expected {expected_crc32c}: the bucket copy is corrupt")
        os.replace(tmp, path)

    # -- sync ------------------------------------------------------------------------------------

    def sync(self) -> dict:
        """One pass: changed files, then the newest local checkpoint, then the pointer.

        Returns counts {'uploaded': n, 'skipped': n, 'published': step or None}.
        """
        self._check_owner()
        # The newest checkpoint is chosen before the CSVs are read: the trainer writes a step's
        # rows before its checkpoint, so the CSVs uploaded below cover the checkpoint's step.
        steps = _checkpoint().list_steps(self.run_dir / "checkpoints")
        in_bucket = self._list_remote()
        counts = {"uploaded": 0, "skipped": 0, "published": None}
        paths = [p for p in sorted(self.run_dir.rglob("*"))
                 if p.is_file() and not p.relative_to(self.run_dir).as_posix().startswith(
                     "checkpoints/") and not any(part.startswith(".") for part in
                                                 p.relative_to(self.run_dir).parts)]
        with Progress(len(paths), f"sync gs://{self.bucket.name}/{self.prefix}",
                      unit="files") as bar:
            for path in paths:
                rel = path.relative_to(self.run_dir).as_posix()
                try:
                    uploaded = self._upload_if_changed(path, rel, in_bucket.get(rel))
                except FileNotFoundError:
                    continue  # removed while we looked (a rotated file): the next pass sees the new one
                counts["uploaded" if uploaded else "skipped"] += 1
                bar.update(1, uploaded=counts["uploaded"])
        if steps and (self._published is None or self._published.get("step") != steps[-1]):
            if self._publish_checkpoint(steps[-1]):
                counts["published"] = steps[-1]
        return counts

    def _check_owner(self):
        """StaleWriter unless the pointer is still the version this writer wrote or read."""
        blob = self.bucket.get_blob(self._name(POINTER))
        generation = blob.generation if blob is not None else 0
        if generation != self._pointer_generation:
            pointer = json.loads(blob.download_as_bytes()) if blob is not None else {}
            raise StaleWriter(f"gs://{self.bucket.name}/{self._name(POINTER)} was rewritten by "
                              f"writer {pointer.get('writer')}; this writer ({self.writer_id}) "
                              "stops")

    def _local_crc(self, path: pathlib.Path, rel: str):
        stat = path.stat()
        key = (stat.st_size, stat.st_mtime_ns)
        cached = self._hash_cache.get(rel)
        crc = cached[1] if cached and cached[0] == key else crc32c_of_file(path)
        self._hash_cache[rel] = (key, crc)
        return stat.st_size, crc

    def _upload_if_changed(self, path: pathlib.Path, rel: str, blob) -> bool:
        """Uploads unless the bucket holds exactly this content, as this writer left it."""
        size, crc = self._local_crc(path, rel)
        if blob is not None and (blob.size, blob.crc32c) == (size, crc):
            self._remote[rel] = (size, crc, blob.generation)
            return False
        mine = self._remote.get(rel)
        if mine is not None and (blob is None or blob.generation != mine[2]):
            logging.warning("gs://%s/%s changed under writer %s (a replaced writer's late "
                            "write?): rewriting it", self.bucket.name, self._name(rel),
                            self.writer_id)
        self._check_owner()
        self._put(path, rel, blob.generation if blob is not None else 0)
        return True

    def _put(self, path: pathlib.Path, rel: str, expected_generation: int):
        """Uploads over exactly `expected_generation` (0: create): a write in between is a 412."""
        blob = self.bucket.blob(self._name(rel))
        try:
            blob.upload_from_filename(path, checksum="crc32c",
                                      if_generation_match=expected_generation)
        except exceptions.PreconditionFailed:
            self._check_owner()  # lost the run: StaleWriter; still ours: a stale write landed
            current = self.bucket.get_blob(self._name(rel))
            blob.upload_from_filename(path, checksum="crc32c", if_generation_match=(
                current.generation if current is not None else 0))
        self._remote[rel] = (blob.size, blob.crc32c, blob.generation)

    def _publish_checkpoint(self, step: int) -> bool:
        local = _checkpoint().path_for(self.run_dir / "checkpoints", step)
        obj = f"checkpoints/{local.stem}.{self.writer_id}.pt"
        self._check_owner()
        try:
            crc = crc32c_of_file(local)
            blob = self.bucket.blob(self._name(obj))
            blob.upload_from_filename(local, if_generation_match=0, checksum="crc32c")
        except FileNotFoundError:
            return False  # rotated away while we looked: a newer one will be published
        except exceptions.PreconditionFailed:
            blob = self.bucket.get_blob(self._name(obj))  # our own retry already uploaded it
            if blob is None or blob.crc32c != crc:
                raise StaleWriter(f"{obj} exists with other content; this writer stops")
        previous = self._published
        try:
            self._write_pointer({"step": step, "object": obj, "crc32c": crc, "size": blob.size})
        except StaleWriter:
            self._delete(obj)  # never published: leave nothing that looks like a checkpoint
            raise
        if previous and previous.get("object") and previous.get("writer") == self.writer_id:
            self._delete(previous["object"])  # only our own: another writer's may be published
        return True

    def _delete(self, rel: str):
        try:
            self.bucket.delete_blob(self._name(rel))
        except exceptions.NotFound:
            pass

    def _write_pointer(self, content: dict):
        """Writes the pointer as this writer's (its id and configuration hash added)."""
        content = dict(content, writer=self.writer_id)
        if self.config_hash is not None:
            content["config_hash"] = self.config_hash
        blob = self.bucket.blob(self._name(POINTER))
        try:
            blob.upload_from_string(json.dumps(content, sort_keys=True),
                                    content_type="application/json",
                                    if_generation_match=self._pointer_generation)
        except exceptions.PreconditionFailed as e:
            raise StaleWriter(f"gs://{self.bucket.name}/{self._name(POINTER)} changed since "
                              f"this writer ({self.writer_id}) read it (412): a newer writer "
                              "owns the run; this one stops") from e
        self._pointer_generation = blob.generation
        self._published = content


def last_progress(bucket: storage.Bucket, prefix: str) -> dict:
    """What --status shows: the published checkpoint step and the last progress.csv step."""
    prefix = prefix.strip("/")
    out = {"checkpoint_step": None, "last_step": None}
    pointer = bucket.get_blob(f"{prefix}/{POINTER}")
    if pointer is not None:
        out["checkpoint_step"] = json.loads(pointer.download_as_bytes()).get("step")
    progress = bucket.get_blob(f"{prefix}/progress.csv")
    if progress is not None:
        lines = progress.download_as_bytes().decode().strip().splitlines()
        if len(lines) > 1:
            try:
                out["last_step"] = int(lines[-1].split(",")[0])
            except ValueError:
                pass
    return out
