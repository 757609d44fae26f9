"""colab/plot_training_graphs.ipynb runs top to bottom, headless, on a directory of runs."""

import os

import nbclient
import nbformat

from conftest import REPO
from test_plot import make_runs


def test_notebook_executes_on_a_fixture_directory(tmp_path):
    make_runs(tmp_path / "runs")
    notebook = nbformat.read(REPO / "colab" / "plot_training_graphs.ipynb", as_version=4)
    env = {"EC_RUNS": str(tmp_path / "runs"), "EC_PLOT_OUT": str(tmp_path / "fig"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "24 reward CSVs" in text and "cut short" in text
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the figure is shown
    markdown = "".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
    assert "| ppo_plus_ec | 2.15 ± 0.1 (n=3) | 2.63 ± 0.1 (n=3) |" in markdown
    assert (tmp_path / "fig.png").is_file() and (tmp_path / "fig.svg").is_file()
