"""Bucket sync against fake-gcs-server with the real storage client: incremental upload, the
pointer protocol (a stale writer gets 412 and stops), restore with checksum verification."""

import json

import pytest
from google.api_core import exceptions

from episodic_curiosity import checkpoint, gcs
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
    # The old VM passed its ownership check just before the takeover and now publishes 768.
    checkpoint.path_for(old / "checkpoints", 768).write_bytes(b"stale")
    stale._check_owner = lambda: None
    with pytest.raises(StaleWriter, match="412"):
        stale._publish_checkpoint(768)
    assert pointer(bucket)["step"] == 512 and pointer(bucket)["writer"] == "new"
    # Its uploaded but unpublished checkpoint is not left behind as if valid.
    assert "checkpoints/ckpt_000000000768.old.pt" not in names(bucket)
    # Create-only: nothing overwrites an uploaded checkpoint object.
    with pytest.raises(exceptions.PreconditionFailed):
        bucket.blob(f"{PREFIX}/checkpoints/ckpt_000000000512.new.pt").upload_from_string(
            b"x", if_generation_match=0)


def test_missing_bucket_is_one_clear_error(gcs_server):
    from google.cloud import storage
    with pytest.raises(UsageError, match="gs://no-such-bucket does not exist"):
        gcs.get_bucket(storage.Client(project="p"), "no-such-bucket")


def test_gs_urls_split_into_bucket_and_prefix():
    assert gcs.split_gs_url("gs://b/runs/ppo/") == ("b", "runs/ppo")
    assert gcs.split_gs_url("gs://b") == ("b", "")
    for url in ("gs://", "/tmp/runs", "s3://b/x"):
        with pytest.raises(UsageError, match="is not a gs://BUCKET/PATH url"):
            gcs.split_gs_url(url)


def test_last_progress_reads_pointer_and_progress(bucket, tmp_path):
    run = tmp_path / "run"
    make_run(run, 256, [256, 512])
    writer = BucketSync(bucket, PREFIX, run)
    writer.restore()
    writer.sync()
    assert bucket_sync.last_progress(bucket, PREFIX) == {"checkpoint_step": 256, "last_step": 512}


def test_a_run_preempted_before_its_first_publish_restores_fresh_and_is_claimed_again(bucket,
                                                                                     tmp_path):
    first = BucketSync(bucket, PREFIX, tmp_path / "vm1", writer_id="w1")
    assert first.restore() is None  # the claim: a pointer naming no checkpoint
    assert pointer(bucket) == {"step": None, "object": None, "crc32c": None, "writer": "w1"}
    # Preempted before any sync. The restarted VM starts from scratch, and owns the run.
    second = BucketSync(bucket, PREFIX, tmp_path / "vm2", writer_id="w2")
    assert second.restore() is None
    assert pointer(bucket)["writer"] == "w2" and pointer(bucket)["object"] is None
    make_run(tmp_path / "vm2", 256, [256])
    assert second.sync()["published"] == 256
    with pytest.raises(StaleWriter):
        first.sync()


def _csvs(bucket):
    return {name: bucket.blob(f"{PREFIX}/{name}").download_as_bytes()
            for name in names(bucket) if name.endswith(".csv")}


@pytest.mark.parametrize("takeover_after_check", [False, True])
def test_a_takeover_during_a_stale_pass_leaves_the_new_owners_csvs(bucket, tmp_path,
                                                                    takeover_after_check):
    """The old VM is mid-pass when the new one claims the run: either its next write is refused
    (the ownership check before every object), or, when the takeover falls between that check
    and the write, the owner's next pass sees the generation change and rewrites the object."""
    old, new = tmp_path / "old", tmp_path / "new"
    make_run(old, 256, [256])
    (old / "reward_train.csv").write_text("step,reward_train\n256,1\n")
    stale = BucketSync(bucket, PREFIX, old, writer_id="old")
    stale.restore()
    stale.sync()
    # The old VM trained on: new rows in both CSVs and a new checkpoint, synced in one pass.
    (old / "progress.csv").write_text("step,fps\n256,1\n512,9\n")
    (old / "reward_train.csv").write_text("step,reward_train\n256,1\n512,9\n")
    checkpoint.path_for(old / "checkpoints", 512).write_bytes(b"stale 512")
    owner = BucketSync(bucket, PREFIX, new, writer_id="new")
    put, check, writes = stale._put, stale._check_owner, []

    def put_then_take_over(path, rel, generation):
        if not writes and takeover_after_check:
            assert owner.restore() == 256  # between the stale check and its write
        put(path, rel, generation)
        writes.append(rel)

    def check_then_take_over():
        check()
        if writes and not takeover_after_check and owner._pointer_generation == 0:
            owner.restore()  # after the stale writer's first write, before its second check
            check()

    stale._put, stale._check_owner = put_then_take_over, check_then_take_over
    with pytest.raises(StaleWriter):
        stale.sync()
    assert writes == ["progress.csv"]  # one write got through, then the stale writer stopped
    assert pointer(bucket)["writer"] == "new" and pointer(bucket)["step"] == 256
    assert not [n for n in names(bucket) if n.endswith(".old.pt") and "512" in n]
    # The new owner resumes at 256 (its trainer cut the later rows) and syncs.
    (new / "progress.csv").write_text("step,fps\n256,1\n512,2\n")
    (new / "reward_train.csv").write_text("step,reward_train\n256,1\n512,2\n")
    checkpoint.path_for(new / "checkpoints", 512).write_bytes(b"owner 512")
    owner.sync()
    assert _csvs(bucket) == {"progress.csv": (new / "progress.csv").read_bytes(),
                             "reward_train.csv": (new / "reward_train.csv").read_bytes()}
    assert pointer(bucket)["writer"] == "new" and pointer(bucket)["step"] == 512


def test_a_fleet_with_another_configuration_is_refused_before_it_claims_the_run(bucket,
                                                                                tmp_path):
    first = tmp_path / "vm1"
    make_run(first, 256, [256])
    writer = BucketSync(bucket, PREFIX, first, writer_id="w1", config_hash="aaaa")
    writer.restore()
    writer.sync()
    assert pointer(bucket)["config_hash"] == "aaaa"
    generation = bucket.get_blob(f"{PREFIX}/{POINTER}").generation
    other = BucketSync(bucket, PREFIX, tmp_path / "vm2", writer_id="w2", config_hash="bbbb")
    with pytest.raises(UsageError) as refused:
        other.restore()
    message = str(refused.value)
    assert "\n" not in message and "configuration aaaa, this one is bbbb" in message
    assert "--accept_config_change" in message and "--prefix" in message
    # Nothing claimed, nothing downloaded: the first fleet's VM goes on owning the run.
    assert bucket.get_blob(f"{PREFIX}/{POINTER}").generation == generation
    assert not (tmp_path / "vm2").exists()
    assert writer.sync()["uploaded"] == 0
    # The same configuration continues it; an accepted other one takes it over with its hash.
    assert BucketSync(bucket, PREFIX, tmp_path / "vm3", config_hash="aaaa").restore() == 256
    taker = BucketSync(bucket, PREFIX, tmp_path / "vm4", writer_id="w4", config_hash="bbbb")
    assert taker.restore(accept_config_change=True) == 256
    assert pointer(bucket)["config_hash"] == "bbbb" and pointer(bucket)["writer"] == "w4"


def test_a_pointer_of_an_older_fleet_without_a_hash_is_continued(bucket, tmp_path):
    old = BucketSync(bucket, PREFIX, tmp_path / "vm1", writer_id="w1")
    make_run(tmp_path / "vm1", 256, [256])
    old.restore()
    old.sync()
    assert "config_hash" not in pointer(bucket)
    assert BucketSync(bucket, PREFIX, tmp_path / "vm2", config_hash="cccc").restore() == 256
    assert pointer(bucket)["config_hash"] == "cccc"
