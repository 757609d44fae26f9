"""Reward curves and Table 1 from synthetic runs: 2 methods x 2 scenarios x 3 runs, one run shorter,
one CSV cut mid-line, one empty; read from a directory and from fake-gcs-server."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

from conftest import REPO
from episodic_curiosity.analysis import aggregate, curves, figures
from fake_gcs import bucket, gcs_server  # noqa: F401  (fixtures)

METHODS = {"ppo": 1.0, "ppo_plus_ec": 2.0}
SCENARIOS = {"doom_dense": 0.0, "sparse": 0.5}
STEPS = [1000, 2000, 3000, 4000, 5000]


def reward(method, scenario, run, step):
    return METHODS[method] + SCENARIOS[scenario] + 0.1 * run + step / 100_000


def make_runs(root):
    """Files as (relative path, text); the writer ends rows with \\r\\n like csv.writer."""
    files = {}
    for method in METHODS:
        for scenario in SCENARIOS:
            for run in range(3):
                steps = STEPS[:3] if (method, scenario, run) == ("ppo_plus_ec", "sparse", 2) \
                    else STEPS
                for split in ("train", "test"):
                    text = f"step,reward_{split},timestamp_s\r\n" + "".join(
                        f"{s},{reward(method, scenario, run, s):.6g},1763790000.0\r\n"
                        for s in steps)
                    files[f"{method}/{scenario}/run_number_{run}/reward_{split}.csv"] = text
    # A run killed mid-write: its last row is cut short.
    files["ppo/doom_dense/run_number_1/reward_test.csv"] += "6000,9.9"
    files["ppo/doom_dense/run_number_1/reward_valid.csv"] = ""  # created, never written
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, newline="")
    return files


def line_of(ax, gid):
    return next(line for line in ax.lines if line.get_gid() == gid)


def check_figure(found):
    figure = figures.reward_figure(found, ["train", "test"])
    axes = np.asarray(figure.axes).reshape(2, 2)
    assert [ax.get_title() for ax in axes[0]] == ["doom_dense", "sparse"]
    assert [axes[r, 0].get_ylabel() for r in range(2)] == ["reward_train", "reward_test"]
    for ax in axes.flat:
        assert sorted(line.get_gid() for line in ax.lines if ":" not in line.get_gid()) == \
            ["ppo", "ppo_plus_ec"]  # one mean line per method
        assert len(ax.collections) == 2  # and its band
    ppo_dense = line_of(axes[1, 0], "ppo")
    x, y = ppo_dense.get_xdata(), ppo_dense.get_ydata()
    assert x[-1] == 5000 and y[-1] == pytest.approx(1.15)  # (1.05 + 1.15 + 1.25) / 3, cut row gone
    assert ppo_dense.get_linestyle() == "-"
    ec_sparse = line_of(axes[0, 1], "ppo_plus_ec")
    x, y = ec_sparse.get_xdata(), ec_sparse.get_ydata()
    assert y[list(x).index(3000)] == pytest.approx((2.53 + 2.63 + 2.73) / 3)
    assert y[list(x).index(4000)] == pytest.approx((2.54 + 2.64) / 2)  # the short run ended
    assert ec_sparse.get_linestyle() == "--"  # drawn dashed past the short run's end
    solid = line_of(axes[0, 1], "ppo_plus_ec:all runs").get_ydata()
    assert np.isfinite(solid[list(x).index(3000)]) and np.isnan(solid[list(x).index(4000)])
    return figure


def check_table(found):
    cells = {(c.method, c.scenario): c for c in aggregate.table_cells(curves.group(found, "test"))}
    assert len(cells) == 4
    dense = cells["ppo", "doom_dense"]
    assert (dense.step, dense.runs) == (5000, 3)
    assert dense.mean == pytest.approx(1.15) and dense.std == pytest.approx(0.1)
    short = cells["ppo_plus_ec", "sparse"]  # the last step all three runs reached
    assert (short.step, short.runs) == (3000, 3)
    assert short.mean == pytest.approx(2.63) and short.std == pytest.approx(0.1)
    at = {(c.method, c.scenario): c for c in aggregate.table_cells(
        curves.group(found, "test"), step=4500)}
    assert at["ppo_plus_ec", "sparse"].mean == pytest.approx((2.54 + 2.64 + 2.73) / 3)


def test_figure_and_table_from_a_directory(tmp_path):
    make_runs(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = curves.load(tmp_path)
    messages = [str(w.message) for w in caught]
    assert any("run_number_1/reward_test.csv" in m and "cut short" in m for m in messages)
    assert any("run_number_1/reward_valid.csv" in m and "empty" in m for m in messages)
    assert len(found) == 24
    check_figure(found)
    check_table(found)


def test_the_legend_fits_inside_the_figure(tmp_path):
    """Three methods with long labels on two scenarios: the legend was one row wider than the
    figure, and the saved PNG cut the first and last labels (docs/images/table1_small.png)."""
    runs = [curves.Curve(method, scenario, run, "train", np.array([100, 200]),
                         np.array([0.0, 1.0]), "x")
            for method in ("ppo", "ppo_plus_ec", "ppo_plus_grid_oracle")
            for scenario in ("noreward_small", "sparse_small") for run in range(3)]
    figure = figures.reward_figure(runs, ["train"])
    figures.save(figure, tmp_path / "fig")  # draws it, as the PNG does
    box = figure.legends[0].get_window_extent()
    assert 0 <= box.x0 and box.x1 <= figure.bbox.width, (box, figure.bbox)
    assert len(figure.legends[0].get_texts()) == 3


def test_smoothing_averages_the_last_rows():
    curve = curves.Curve("ppo", "s", 0, "train", np.arange(1, 6) * 100,
                         np.array([0.0, 1.0, 0.0, 1.0, 1.0]), "x")
    assert list(curves.smoothed(curve, 3).rewards) == pytest.approx([0, 0.5, 1 / 3, 2 / 3, 2 / 3])
    assert curves.smoothed(curve, 1) is curve


def test_the_cli_writes_png_svg_and_table(tmp_path):
    make_runs(tmp_path / "runs")
    out = tmp_path / "fig"
    result = subprocess.run(
        [sys.executable, "-m", "episodic_curiosity.plot", f"--runs={tmp_path / 'runs'}",
         f"--out={out}", f"--table={tmp_path / 'table1'}"], capture_output=True, text=True,
        cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "warning:" in result.stderr and "reward_test.csv" in result.stderr
    assert (tmp_path / "fig.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (tmp_path / "fig.svg").read_bytes()[:400]
    table = (tmp_path / "table1.md").read_text()
    assert "| ppo | 1.15 ± 0.1 (n=3) | 1.65 ± 0.1 (n=3) |" in table
    assert "| ppo_plus_ec | 2.15 ± 0.1 (n=3) | 2.63 ± 0.1 (n=3) |" in table
    rows = (tmp_path / "table1.csv").read_text().splitlines()
    assert rows[0] == "method,scenario,split,step,mean,std,runs,metric"
    assert "ppo_plus_ec,sparse,test,3000,2.63,0.1,3,reward" in rows


def test_bad_input_is_one_line(tmp_path):
    for args, needle in (([f"--runs={tmp_path}", "--out=x"], "no readable reward"),
                         ([f"--runs={tmp_path / 'nope'}", "--out=x"], "not a directory"),
                         ([f"--runs={tmp_path}"], "nothing to write")):
        result = subprocess.run([sys.executable, "-m", "episodic_curiosity.plot", *args],
                                capture_output=True, text=True, cwd=REPO, timeout=120)
        assert result.returncode == 2 and needle in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_the_same_from_a_bucket(bucket, tmp_path):  # noqa: F811
    files = make_runs(tmp_path)
    for relative, text in files.items():
        bucket.blob(f"table1/{relative}").upload_from_string(text)
    bucket.blob("table1/ppo/doom_dense/run_number_0/checkpoints/LATEST.json").upload_from_string("{}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = curves.load(f"gs://{bucket.name}/table1", client=bucket.client)
    assert any(f"gs://{bucket.name}/table1/ppo/doom_dense/run_number_1/reward_test.csv"
               in str(w.message) for w in caught)
    assert len(found) == 24
    check_figure(found)
    check_table(found)
    result = subprocess.run(  # the CLI, through the storage client and STORAGE_EMULATOR_HOST
        [sys.executable, "-m", "episodic_curiosity.plot", f"--runs=gs://{bucket.name}/table1",
         f"--table={tmp_path / 't'}", "--table_split=train"], capture_output=True, text=True,
        cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "| ppo_plus_ec | 2.15 ± 0.1 (n=3) | 2.63 ± 0.1 (n=3) |" in result.stdout
