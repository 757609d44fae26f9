"""Bucket sync against fake-gcs-server with the real storage client: incremental upload, the
pointer protocol (a stale writer gets 412 and stops), restore with checksum verification."""

import json

import pytest
from google.api_core import exceptions

from episodic_curiosity import checkpoint
from episodic_curiosity.errors import UsageError
from episodic_curiosity.launch import bucket_sync
from episodic_curiosity.launch.bucket_sync import POINTER, BucketSync, StaleWriter
from fake_gcs import bucket, gcs_server  # noqa: F401  (fixtures)

PREFIX = "runs/ppo/doom_dense/run_number_0"


def make_run(path, step, rows):
    (path / "checkpoints").mkdir(parents=True, exist_ok=True)
    checkpoint.path_for(path / "checkpoints", step).write_bytes(f"weights at {step}".encode())
    (path / "progress.csv").write_text("step,fps\n" + "".join(f"{s},1\n" for s in rows))
    (path / "tensorboard").mkdir(exist_ok=True)
    (path / "tensorboard" / "events").write_bytes(b"e" * 100)
    (path / "checkpoints" / ".ckpt_000000009999.pt.tmp").write_bytes(b"half written")


def names(bucket):
    return sorted(b.name[len(PREFIX) + 1:] for b in bucket.client.list_blobs(bucket, prefix=PREFIX))


def pointer(bucket):
    return json.loads(bucket.blob(f"{PREFIX}/{POINTER}").download_as_bytes())


def test_sync_uploads_changed_files_only_and_publishes_the_newest_checkpoint(bucket, tmp_path):
    run = tmp_path / "run"
    make_run(run, 256, [256])
    writer = BucketSync(bucket, PREFIX, run, writer_id="w1")
    assert writer.restore() is None  # empty bucket: a fresh run, claimed
    assert writer.sync() == {"uploaded": 2, "skipped": 0, "published": 256}
    assert names(bucket) == [POINTER, "checkpoints/ckpt_000000000256.w1.pt", "progress.csv",
                             "tensorboard/events"]
    assert pointer(bucket)["step"] == 256 and pointer(bucket)["writer"] == "w1"
    assert writer.sync() == {"uploaded": 0, "skipped": 2, "published": None}
    # Same size, other content: crc32c catches it.
    (run / "progress.csv").write_text("step,fps\n512,1\n")
    checkpoint.path_for(run / "checkpoints", 512).write_bytes(b"newer")
    assert writer.sync() == {"uploaded": 1, "skipped": 1, "published": 512}
    assert "checkpoints/ckpt_000000000256.w1.pt" not in names(bucket)  # superseded, own: deleted
    assert bucket.blob(f"{PREFIX}/progress.csv").download_as_bytes() == b"step,fps\n512,1\n"


def test_restore_takes_the_published_checkpoint_and_verifies_it(bucket, tmp_path):
    first = tmp_path / "vm1"
    make_run(first, 512, [256, 512, 768])
    writer = BucketSync(bucket, PREFIX, first, writer_id="w1")
    writer.restore()
    writer.sync()
    # An upload that was never published (the VM died before the pointer write) is ignored.
    bucket.blob(f"{PREFIX}/checkpoints/ckpt_000000000768.w1.pt").upload_from_string(b"unpublished")
    second = tmp_path / "vm2"
    assert BucketSync(bucket, PREFIX, second, writer_id="w2").restore() == 512
    assert checkpoint.list_steps(second / "checkpoints") == [512]
    assert checkpoint.path_for(second / "checkpoints", 512).read_bytes() == b"weights at 512"
    assert (second / "progress.csv").read_text() == (first / "progress.csv").read_text()
    assert (second / "tensorboard" / "events").read_bytes() == b"e" * 100
    assert pointer(bucket)["writer"] == "w2"  # claimed


def test_restore_refuses_a_checkpoint_whose_checksum_does_not_match(bucket, tmp_path):
    run = tmp_path / "vm1"
    make_run(run, 256, [256])
    writer = BucketSync(bucket, PREFIX, run, writer_id="w1")
    writer.restore()
    writer.sync()
    bucket.blob(f"{PREFIX}/checkpoints/ckpt_000000000256.w1.pt").upload_from_string(b"bitrot")
    with pytest.raises(UsageError, match="crc32c .* expected .*corrupt"):
        BucketSync(bucket, PREFIX, tmp_path / "vm2", writer_id="w2").restore()
    assert not (tmp_path / "vm2" / "checkpoints" / "ckpt_000000000256.pt").exists()


def test_a_replaced_writer_stops_before_uploading(bucket, tmp_path):
    old = tmp_path / "old"
    make_run(old, 256, [256])
    stale = BucketSync(bucket, PREFIX, old, writer_id="old")
    stale.restore()
    stale.sync()
    BucketSync(bucket, PREFIX, tmp_path / "new", writer_id="new").restore()  # the restarted VM
    (old / "progress.csv").write_text("step,fps\n256,1\n512,1\n")
    with pytest.raises(StaleWriter, match="rewritten by writer new"):
        stale.sync()
    assert bucket.blob(f"{PREFIX}/progress.csv").download_as_bytes() == b"step,fps\n256,1\n"


def test_a_stale_pointer_write_gets_412_and_cannot_publish_over_a_newer_run(bucket, tmp_path):
    old = tmp_path / "old"
    make_run(old, 256, [256])
    stale = BucketSync(bucket, PREFIX, old, writer_id="old")
    stale.restore()
    stale.sync()
    new = BucketSync(bucket, PREFIX, tmp_path / "new", writer_id="new")
    new.restore()
    make_run(tmp_path / "new", 512, [256, 512])
    new.sync()
    # The old VM passed its pre-check just before the takeover and now publishes step 768.
    checkpoint.path_for(old / "checkpoints", 768).write_bytes(b"stale")
    with pytest.raises(StaleWriter, match="412"):
        stale._publish_checkpoint(768)
    assert pointer(bucket)["step"] == 512 and pointer(bucket)["writer"] == "new"
    # Create-only: nothing overwrites an uploaded checkpoint object.
    with pytest.raises(exceptions.PreconditionFailed):
        bucket.blob(f"{PREFIX}/checkpoints/ckpt_000000000512.new.pt").upload_from_string(
            b"x", if_generation_match=0)


def test_missing_bucket_is_one_clear_error(gcs_server):
    from google.cloud import storage
    with pytest.raises(UsageError, match="gs://no-such-bucket does not exist"):
        bucket_sync.get_bucket(storage.Client(project="p"), "no-such-bucket")


def test_last_progress_reads_pointer_and_progress(bucket, tmp_path):
    run = tmp_path / "run"
    make_run(run, 256, [256, 512])
    writer = BucketSync(bucket, PREFIX, run)
    writer.restore()
    writer.sync()
    assert bucket_sync.last_progress(bucket, PREFIX) == {"checkpoint_step": 256, "last_step": 512}
