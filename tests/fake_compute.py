"""A small fake of the Compute Engine compute/v1 REST API and the metadata server, on 127.0.0.1.

Serves what the launcher calls: instances insert / get / list (label filter) / start / delete,
zoneOperations get / wait, acceleratorTypes get, images getFromFamily. It can refuse like the real
API: a name clash (409 alreadyExists), a zone without the GPU type (404), a GPU quota
(QUOTA_EXCEEDED in the operation's error). With `boot=True` each VM "boots": its metadata
startup-script runs locally in bash, in its own process group, with GCE_METADATA_HOST pointing at
a per-VM metadata server; preempt() kills that group as a preemption would.
"""

import http.server
import itertools
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.parse

ZONE_GPUS = {"us-central1-a": {"nvidia-tesla-p100", "nvidia-tesla-t4"},
             "us-central1-f": {"nvidia-tesla-t4"}}


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def _serve(handler_cls, owner):
    server = _Server(("127.0.0.1", 0), handler_cls)
    server.owner = owner
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class _MetadataHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        vm = self.server.owner
        prefix = "/computeMetadata/v1/instance/attributes/"
        if self.headers.get("Metadata-Flavor") != "Google":
            return self._reply(403, "Missing Metadata-Flavor:Google header.")
        if not self.path.startswith(prefix):
            return self._reply(404, "not found")
        items = {i["key"]: i["value"] for i in vm["body"].get("metadata", {}).get("items", [])}
        key = self.path[len(prefix):]
        vm["metadata_reads"].append(key)
        if key not in items:
            return self._reply(404, "not found")
        self._reply(200, items[key])

    def _reply(self, code, text):
        data = text.encode()
        self.send_response(code)
        self.send_header("Metadata-Flavor", "Google")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _ComputeHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def do_DELETE(self):
        self._route("DELETE")

    def _route(self, method):
        fake = self.server.owner
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}") if length else {}
        fake.requests.append((method, url.path, body))
        base = r"^/compute/v1/projects/(?P<p>[^/]+)"
        zone = base + r"/zones/(?P<z>[^/]+)"
        routes = [
            ("POST", zone + r"/instances$", fake.insert),
            ("GET", zone + r"/instances$", fake.list),
            ("GET", zone + r"/instances/(?P<n>[^/]+)$", fake.get),
            ("DELETE", zone + r"/instances/(?P<n>[^/]+)$", fake.delete),
            ("POST", zone + r"/instances/(?P<n>[^/]+)/start$", fake.start),
            ("GET", zone + r"/operations/(?P<n>[^/]+)$", fake.operation),
            ("POST", zone + r"/operations/(?P<n>[^/]+)/wait$", fake.operation),
            ("GET", zone + r"/acceleratorTypes/(?P<n>[^/]+)$", fake.accelerator),
            ("GET", base + r"/global/images/family/(?P<n>[^/]+)$", fake.image),
        ]
        for verb, pattern, handler in routes:
            m = re.match(pattern, url.path)
            if verb == method and m:
                code, reply = handler(body=body, query=query, **m.groupdict())
                break
        else:
            code, reply = _error(404, "notFound", f"no route {method} {url.path}")
        data = json.dumps(reply).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _error(code, reason, message):
    return code, {"error": {"code": code, "message": message,
                            "errors": [{"reason": reason, "message": message}]}}


class FakeCompute:
    """The fake API. `gpu_quota`: GPUs the project may hold at once; `boot`: run startup scripts
    with `vm_env` added to their environment; their output goes to `log_dir/<name>.log`."""

    def __init__(self, gpu_quota=100, boot=False, vm_env=None, log_dir=None):
        self.gpu_quota, self.boot, self.vm_env, self.log_dir = gpu_quota, boot, vm_env, log_dir
        self.instances, self.operations, self.requests = {}, {}, []
        self.lock = threading.RLock()
        self._ids = itertools.count(1000)
        self.server = _serve(_ComputeHandler, self)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        for name in list(self.instances):
            self._kill(name)
            self.instances[name]["metadata_server"].shutdown()
        self.server.shutdown()

    # -- API --------------------------------------------------------------------------------

    def _op(self, p, z, kind, target, error=None):
        name = f"operation-{next(self._ids)}"
        op = {"kind": "compute#operation", "id": str(next(self._ids)), "name": name,
              "zone": f"projects/{p}/zones/{z}", "operationType": kind, "status": "DONE",
              "progress": 100, "targetLink": f"projects/{p}/zones/{z}/instances/{target}",
              "selfLink": f"projects/{p}/zones/{z}/operations/{name}"}
        if error:
            op["error"] = {"errors": [{"code": error[0], "message": error[1]}]}
            op["httpErrorStatusCode"] = 403
        self.operations[name] = op
        return 200, op

    def insert(self, p, z, body, query):
        with self.lock:
            name = body["name"]
            if name in self.instances:
                return _error(409, "alreadyExists",
                              f"The resource 'projects/{p}/zones/{z}/instances/{name}' already "
                              "exists")
            gpus = sum(a["acceleratorCount"] for a in body.get("guestAccelerators", []))
            for acc in body.get("guestAccelerators", []):
                gpu = acc["acceleratorType"].rsplit("/", 1)[-1]
                if gpu not in ZONE_GPUS.get(z, set()):
                    return _error(400, "invalid", f"Invalid value for field "
                                  f"'resource.guestAccelerators[0].acceleratorType': "
                                  f"'{acc['acceleratorType']}'. Accelerator type does not exist")
            used = sum(sum(a["acceleratorCount"] for a in vm["body"].get("guestAccelerators", []))
                       for vm in self.instances.values())
            if used + gpus > self.gpu_quota:
                return self._op(p, z, "insert", name, (
                    "QUOTA_EXCEEDED", f"Quota 'NVIDIA_P100_GPUS' exceeded.  Limit: "
                    f"{self.gpu_quota}.0 in region {z[:-2]}."))
            vm = {"body": dict(body, id=str(next(self._ids)), status="RUNNING",
                               zone=f"projects/{p}/zones/{z}",
                               selfLink=f"projects/{p}/zones/{z}/instances/{name}"),
                  "metadata_reads": [], "process": None, "boots": 0}
            vm["metadata_server"] = _serve(_MetadataHandler, vm)
            self.instances[name] = vm
            self._boot(name)
            return self._op(p, z, "insert", name)

    def list(self, p, z, body, query):
        wanted = re.findall(r'labels\.([\w-]+)\s*=\s*"([^"]*)"', query.get("filter", [""])[0])
        items = [vm["body"] for vm in self.instances.values()
                 if all(vm["body"].get("labels", {}).get(k) == v for k, v in wanted)]
        return 200, {"kind": "compute#instanceList", "items": items}

    def get(self, p, z, n, body, query):
        if n not in self.instances:
            return _error(404, "notFound", f"The resource 'projects/{p}/zones/{z}/instances/{n}' "
                          "was not found")
        return 200, self.instances[n]["body"]

    def delete(self, p, z, n, body, query):
        with self.lock:
            if n not in self.instances:
                return self.get(p, z, n, body, query)
            self._kill(n)
            self.instances.pop(n)["metadata_server"].shutdown()
            return self._op(p, z, "delete", n)

    def start(self, p, z, n, body, query):
        with self.lock:
            if n not in self.instances:
                return self.get(p, z, n, body, query)
            self.instances[n]["body"]["status"] = "RUNNING"
            self._boot(n)
            return self._op(p, z, "start", n)

    def operation(self, p, z, n, body, query):
        if n not in self.operations:
            return _error(404, "notFound", f"operation {n} not found")
        return 200, self.operations[n]

    def accelerator(self, p, z, n, body, query):
        if n not in ZONE_GPUS.get(z, set()):
            return _error(404, "notFound", f"The resource 'projects/{p}/zones/{z}/"
                          f"acceleratorTypes/{n}' was not found")
        return 200, {"kind": "compute#acceleratorType", "name": n, "zone": z}

    def image(self, p, n, body, query):
        if not n.startswith("pytorch"):
            return _error(404, "notFound", f"The resource 'projects/{p}/global/images/family/{n}' "
                          "was not found")
        return 200, {"kind": "compute#image", "name": f"{n}-v20240601", "family": n,
                     "selfLink": f"https://www.googleapis.com/compute/v1/projects/{p}/global/"
                                 f"images/{n}-v20240601"}

    # -- the VMs' lifecycle -------------------------------------------------------------------

    def metadata_host(self, name):
        return f"127.0.0.1:{self.instances[name]['metadata_server'].server_address[1]}"

    def _boot(self, name):
        if not self.boot:
            return
        vm = self.instances[name]
        items = {i["key"]: i["value"] for i in vm["body"]["metadata"]["items"]}
        script = self.log_dir / f"{name}.startup-script.sh"
        script.write_text(items["startup-script"])
        vm["boots"] += 1
        log = open(self.log_dir / f"{name}.log", "a")
        log.write(f"--- boot {vm['boots']} ---\n")
        log.flush()
        env = dict(os.environ, **(self.vm_env or {}), GCE_METADATA_HOST=self.metadata_host(name))
        vm["process"] = subprocess.Popen(["bash", str(script)], stdout=log, stderr=log, env=env,
                                         start_new_session=True, stdin=subprocess.DEVNULL)
        log.close()

    def _kill(self, name):
        proc = self.instances[name]["process"]
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the VM is gone: no shutdown, no final sync
            proc.wait()

    def preempt(self, name):
        """A Spot preemption with instance_termination_action=STOP: the VM stops, its status
        becomes TERMINATED and its boot disk stays."""
        with self.lock:
            self._kill(name)
            self.instances[name]["body"]["status"] = "TERMINATED"

    def wait_until_exit(self, name, timeout):
        proc = self.instances[name]["process"]
        deadline = time.time() + timeout
        while proc.poll() is None and time.time() < deadline:
            time.sleep(0.2)
        return proc.poll()
