import csv

import pytest

from episodic_curiosity.csv_log import ResumableCsv, RewardCsv
from episodic_curiosity.errors import UsageError


def read(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_reward_csv_columns(tmp_path):
    log = RewardCsv(tmp_path / "reward_valid.csv", "valid")
    log.add(100, 1.5)
    log.close()
    rows = read(tmp_path / "reward_valid.csv")
    assert rows[0] == ["step", "reward_valid", "timestamp_s"]
    assert rows[1][:2] == ["100", "1.5"]


def test_resume_cuts_rows_after_the_checkpoint_step(tmp_path):
    path = tmp_path / "progress.csv"
    log = ResumableCsv(path, ["step", "loss"])
    for step in (10, 20, 30, 40):
        log.write(step, loss=step / 10)
    log.close()
    log = ResumableCsv(path, ["step", "loss"], resume_step=20)
    for step in (30, 40, 50):
        log.write(step, loss=0)
    log.close()
    assert [r[0] for r in read(path)[1:]] == ["10", "20", "30", "40", "50"]


def test_a_row_cut_short_by_a_kill_is_dropped(tmp_path):
    path = tmp_path / "reward_train.csv"
    path.write_text("step,reward_train,timestamp_s\n10,1.0,5.0\n20,2.")
    log = RewardCsv(path, "train", resume_step=100)
    log.close()
    assert read(path)[1:] == [["10", "1.0", "5.0"]]


def test_fresh_run_over_leftover_rows_starts_clean(tmp_path):
    path = tmp_path / "reward_train.csv"
    path.write_text("step,reward_train,timestamp_s\n10,1.0,5.0\n")
    RewardCsv(path, "train", resume_step=0).close()
    assert read(path) == [["step", "reward_train", "timestamp_s"]]


def test_different_columns_are_refused(tmp_path):
    path = tmp_path / "progress.csv"
    ResumableCsv(path, ["step", "a"]).close()
    with pytest.raises(UsageError, match="columns"):
        ResumableCsv(path, ["step", "b"])
    with pytest.raises(UsageError, match="columns"):  # a column dropped would lose its values
        ResumableCsv(path, ["step"])


def test_file_of_an_older_version_is_widened_on_resume(tmp_path):
    # A newer version logs one more column: the run resumes, old rows keep every value.
    path = tmp_path / "progress.csv"
    path.write_text("step,loss,timestamp_s\n10,1.0,5.0\n20,0.5,6.0\n30,0.2,7.0\n")
    log = ResumableCsv(path, ["step", "loss", "rooms_visited", "timestamp_s"], resume_step=20)
    log.write(30, loss="0.3", rooms_visited="2", timestamp_s="8.0")
    log.close()
    assert read(path) == [["step", "loss", "rooms_visited", "timestamp_s"],
                          ["10", "1.0", "", "5.0"], ["20", "0.5", "", "6.0"],
                          ["30", "0.3", "2", "8.0"]]
