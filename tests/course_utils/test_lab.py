"""The lab command: JupyterLab really starts on lessons/ and serves lesson 01."""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request

import nbformat
import pytest
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

from course_utils.lab import lab_environment
from course_utils.release import LESSONS
from course_utils.student_notebooks import solution_paths
from tests.lab_server import running_lab
from tests.plugins.figures import missing_figure

pytestmark = pytest.mark.notebook


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


@pytest.fixture
def lab_server(tmp_path):
    """`python -m course_utils.lab` (what `make lab` runs) on 127.0.0.1, random port, token."""
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path), "HOME": str(tmp_path)}
    with running_lab(tmp_path / "lab.log", env=env) as server:
        yield server.base, server.token


def test_lab_serves_the_lessons_and_opens_lesson_01(lab_server):
    """Does the lab command serve lessons/ with lesson 01 as the page it opens?"""
    base, token = lab_server
    _, listing = _get(f"{base}/api/contents?token={token}")
    names = {item["name"] for item in json.loads(listing)["content"]}
    assert {"01_sequential_basics.ipynb", "solutions"} <= names
    _, notebook = _get(f"{base}/api/contents/01_sequential_basics.ipynb?token={token}")
    assert json.loads(notebook)["content"]["cells"][0]["source"].startswith("# 01 · ")
    status, page = _get(f"{base}/?token={token}")  # follows the redirect to the default URL
    assert status == 200 and b"JupyterLab" in page


def test_lab_refuses_requests_without_the_token(lab_server):
    """Is the server closed to a request without its token?"""
    base, _ = lab_server
    with pytest.raises(urllib.error.HTTPError) as error:
        _get(f"{base}/api/contents")
    assert error.value.code == 403


def test_lab_hides_nbgrader_instructor_tools_and_news_from_learners(lab_server):
    """Does the learner's lab leave out nbgrader's menu, sidebar and formgrader, and the
    JupyterLab news prompt?"""
    base, token = lab_server
    _, page = _get(f"{base}/lab?token={token}")
    data = re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', page.decode(), re.S)
    config = json.loads(data.group(1))
    assert "@jupyter/nbgrader" in config["disabledExtensions"]
    assert config["news"] == {"disabled": True}
    _, settings = _get(
        f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification?token={token}"
    )
    defaults = json.loads(settings)["schema"]["properties"]  # overridden defaults
    assert defaults["fetchNews"]["default"] == "false"
    assert defaults["checkForUpdates"]["default"] is False
    with pytest.raises(urllib.error.HTTPError) as error:
        _get(f"{base}/formgrader?token={token}")
    assert error.value.code == 404


def test_the_lab_serves_each_lesson_with_the_metadata_its_kernel_reports(lab_server, monkeypatch):
    """JupyterLab writes the kernel's name and language info (Python's version included)
    into a notebook once its kernel runs, and any difference marks the notebook modified
    as it opens. Does the lab serve every lesson with exactly what the course's kernel
    reports, while the committed files keep their own metadata?"""
    base, token = lab_server
    for name, value in lab_environment(dict(os.environ)).items():
        monkeypatch.setenv(name, value)
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel()
    try:
        client = manager.client()
        client.start_channels()
        client.wait_for_ready(timeout=120)
        client.kernel_info()
        reply = client.get_shell_msg(timeout=30)["content"]
        client.stop_channels()
    finally:
        manager.shutdown_kernel(now=True)
    spec = manager.kernel_spec
    expected = {
        "kernelspec": {"name": "python3", "display_name": spec.display_name, "language": "python"},
        "language_info": reply["language_info"],
    }
    assert expected["kernelspec"]["display_name"] == "Python 3 (keras-course)"
    for path in sorted(LESSONS.glob("*.ipynb")):
        _, served = _get(f"{base}/api/contents/{path.name}?token={token}")
        assert json.loads(served)["content"]["metadata"] == expected, path.name
        assert nbformat.read(path, as_version=4).metadata.kernelspec.display_name == (
            "Python 3 (ipykernel)"
        )


def test_a_root_folder_given_on_the_command_line_replaces_the_lessons_folder():
    """Does `make lab LAB_ARGS=--ServerApp.root_dir=X` serve X instead of lessons/?"""
    from course_utils.lab import lab_arguments

    arguments = lab_arguments(["--ServerApp.root_dir=/elsewhere", "--no-browser"])
    assert [a for a in arguments if a.startswith("--ServerApp.root_dir")] == [
        "--ServerApp.root_dir=/elsewhere"
    ]
    assert f"--LabApp.default_url=/lab/tree/{solution_paths()[0].name}" in arguments


def test_the_learners_kernel_shows_the_banner_first_no_tensorflow_log_runs_on_onednn_and_draws(
    tmp_path, monkeypatch
):
    """In the lab's python3 kernel, is the device banner the setup cell's first output,
    with none of TensorFlow's C++ start-up log lines, does TensorFlow run on oneDNN
    although nothing outside the kernel asked for it, and does a figure helper's figure
    show under its cell, although TensorFlow imported Matplotlib before the kernel
    started?"""
    for name, value in lab_environment(dict(os.environ)).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)  # the tests' own setting
    monkeypatch.delenv("MPLBACKEND", raising=False)  # as on a learner's machine
    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.argv[:3] == ["python", "-m", "course_utils.kernel"]
    lesson = nbformat.read(solution_paths()[0], as_version=4)
    setup = next(cell for cell in lesson.cells if "print_device_banner()" in cell.source)
    onednn = (
        "import os\n"
        "from course_utils.tensorflow_settings import onednn_enabled\n"
        "print(os.environ.get('TF_ENABLE_ONEDNN_OPTS'), onednn_enabled())"
    )
    figure = (
        "import numpy as np\n"
        "from course_utils import show_images\n"
        "show_images(np.zeros((2, 8, 8, 3), 'uint8'), np.array([0, 1]), ['a', 'b'])"
    )
    cells = [nbformat.v4.new_code_cell(source) for source in (setup.source, onednn, figure)]
    notebook = nbformat.v4.new_notebook(cells=cells)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(LESSONS)}}
    ).execute()
    outputs = notebook.cells[0].outputs
    assert outputs and outputs[0].get("name") == "stdout", outputs
    assert outputs[0]["text"].startswith("Device: "), outputs
    everything = "".join(output.get("text", "") for output in outputs)
    for log_line in ("oneDNN", "absl::InitializeLog", "cpu_feature_guard"):
        assert log_line not in everything, everything
    assert notebook.cells[1].outputs[0]["text"] == "1 True\n"
    assert missing_figure(figure, notebook.cells[2].outputs) is None, notebook.cells[2].outputs
