"""End to end: a "VM" of the compute fake boots its real startup script, trains a smoke run that
syncs to fake-gcs-server, is preempted before its first checkpoint is published (restarted: a
fresh run), then mid-run (SIGKILL of everything it runs), restarted, and ends with complete,
duplicate-free CSVs in the bucket. Runs the training as user `ec` when the
tests run as root (CI), as the current user otherwise."""

import csv
import io
import json
import os
import pathlib
import pwd
import shutil
import stat
import sys
import tempfile
import time

import pytest

from conftest import REPO
from episodic_curiosity.launch import fleet, gce
from fake_compute import FakeCompute
from fake_gcs import bucket, gcs_server  # noqa: F401  (fixtures)

SMOKE_BATCH, SMOKE_TOTAL = 4 * 64, 4096


def bucket_steps(bucket, name):
    blob = bucket.get_blob(name)
    return [int(r["step"]) for r in csv.DictReader(io.StringIO(blob.download_as_text()))]


def pointer(bucket, prefix):
    blob = bucket.get_blob(f"{prefix}/checkpoints/LATEST.json")
    return json.loads(blob.download_as_bytes()) if blob else None


def published_step(bucket, prefix):
    return (pointer(bucket, prefix) or {}).get("step")


@pytest.fixture
def interpreter_reachable_by_all():
    """As root, the startup script trains as user `ec`, who must be able to run this Python. On
    the dev/CI machines it lives under /root (mode 0700): for the duration of the test, directories
    on the way to it that others cannot traverse get o+x (search only, no listing); restored after.
    """
    changed = []
    if os.getuid() == 0:
        for target in {os.path.realpath(sys.executable), sys.prefix, str(REPO)}:
            for parent in reversed(pathlib.Path(target).parents):
                mode = parent.stat().st_mode
                if not mode & stat.S_IXOTH:
                    os.chmod(parent, mode | stat.S_IXOTH)
                    changed.append((parent, mode))
    yield
    for path, mode in reversed(changed):
        os.chmod(path, stat.S_IMODE(mode))


@pytest.fixture
def vm_workdir():
    # Outside pytest's tmp_path (mode 0700): the unprivileged user must reach it.
    path = tempfile.mkdtemp(prefix="ec-vm-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_spot_vm_preempted_mid_run_resumes_from_the_bucket(bucket, gcs_server, tmp_path,
                                                           vm_workdir, interpreter_reachable_by_all):
    fake = FakeCompute(boot=True, vm_env={"STORAGE_EMULATOR_HOST": gcs_server}, log_dir=tmp_path)
    try:
        compute = gce.Compute("proj", "us-central1-a", fake.endpoint)
        vm = fleet.plan("e2e", ["ppo"], ["doom_dense"], 1)[0]
        prefix = vm.run_prefix("e2e")
        md = fleet.metadata(vm, bucket.name, "e2e", "gs://unused/source.tar.gz", "smoke", [], 1)
        # Documented attributes: an interpreter that already has the package (no install), a
        # work directory, and no poweroff at the end.
        md.update({"ec-python": sys.executable, "ec-workdir": vm_workdir,
                   "ec-poweroff-when-done": "FALSE"})
        compute.insert(gce.instance_body(vm.name, "us-central1-a", "n1-standard-8",
                                         "nvidia-tesla-t4", 1, True, "img", md,
                                         fleet.labels(vm, "e2e")))
        log = tmp_path / f"{vm.name}.log"
        run = f"{vm_workdir}/ppo/doom_dense/run_number_0"
        # Preempted right after its restore claimed the run, before any checkpoint: the common
        # case (the first sync is minutes in). The restarted VM must start from scratch.
        deadline = time.time() + 300
        while time.time() < deadline and pointer(bucket, prefix) is None:
            assert fake.instances[vm.name]["process"].poll() is None, log.read_text()[-3000:]
            time.sleep(0.05)
        fake.preempt(vm.name)
        first_writer = pointer(bucket, prefix)
        assert first_writer and first_writer["object"] is None, first_writer
        compute.start(vm.name)
        deadline = time.time() + 300
        while time.time() < deadline and pointer(bucket, prefix)["writer"] == first_writer["writer"]:
            assert fake.instances[vm.name]["process"].poll() is None, log.read_text()[-3000:]
            time.sleep(0.05)
        assert log.read_text().count(f"fresh run {run}") == 2, log.read_text()[-3000:]

        deadline = time.time() + 900  # a hang guard; a loaded 2-core CI machine needs minutes
        while time.time() < deadline and (published_step(bucket, prefix) or 0) < 1024:
            assert fake.instances[vm.name]["process"].poll() is None, log.read_text()[-3000:]
            time.sleep(0.2)
        time.sleep(1.0)  # rows and maybe a checkpoint past the published one: lost with the VM
        fake.preempt(vm.name)
        preempted_at = published_step(bucket, prefix)
        assert 1024 <= preempted_at < SMOKE_TOTAL, log.read_text()[-3000:]
        assert compute.get(vm.name).status == "TERMINATED"

        compute.start(vm.name)  # what --resume_preempted does
        assert fake.wait_until_exit(vm.name, 900) == 0, log.read_text()[-3000:]
        text = log.read_text()
        assert f"restored {run} at step {preempted_at}" in text
        assert "Authorization" not in text and "Bearer" not in text
        assert f"resuming doom_dense at step {preempted_at}" in bucket.get_blob(
            f"{prefix}/log.txt").download_as_text()
        assert published_step(bucket, prefix) == SMOKE_TOTAL
        assert bucket_steps(bucket, f"{prefix}/progress.csv") == list(
            range(SMOKE_BATCH, SMOKE_TOTAL + 1, SMOKE_BATCH))
        assert bucket_steps(bucket, f"{prefix}/reward_valid.csv") == [0, 1024, 2048, 3072, 4096]
        for split in ("train", "test"):
            split_steps = bucket_steps(bucket, f"{prefix}/reward_{split}.csv")
            assert split_steps and split_steps == sorted(set(split_steps)), split
        assert {"ec-method", "ec-bucket", "ec-prefix"} <= set(
            fake.instances[vm.name]["metadata_reads"])
        owner = pwd.getpwuid(os.stat(f"{vm_workdir}/ppo/doom_dense/run_number_0/progress.csv")
                             .st_uid).pw_name
        assert owner == ("ec" if os.getuid() == 0 else pwd.getpwuid(os.getuid()).pw_name)
    finally:
        fake.close()
