"""The environment of the fleet tests (test/fleet/): a NATS JetStream
cluster on loopback, a network namespace with veth pairs for appliances that
capture through DPDK's af_packet driver, captures sent into it, and
`safeguard run` inside it. Python's standard library only (Debian has no
NATS client for Python: NatsClient speaks just enough of the protocol).

  NatsCluster(workdir, nodes=3)   nats-server processes (/usr/sbin/nats-server,
                                  2.9.10 on Debian 12) on 127.0.0.1, JetStream
                                  on, clustered; one config file, store and
                                  log per node under workdir
  NatsClient(urls)                core NATS over TCP: publish, request, and the
                                  JetStream API ($JS.API.*) as JSON
  Netns(name, pairs=1)            a namespace holding veth pairs sga0/sga1,
                                  sgb0/sgb1, ...: both ends inside, up, MTU
                                  1500, GRO/GSO/TSO off, IPv6 off (so the
                                  kernel puts nothing on the wire itself)
  tcpreplay(ns, iface, pcap)      tcpreplay inside a namespace at the
                                  capture's recorded speed (a Popen)
  send_pcap(ns, iface, pcap, at)  the same with this module's own sender,
                                  which keeps to the capture's clock
                                  (tcpreplay falls behind on a busy machine)
  Appliance(ns, safeguard, ...)   `safeguard run` inside a namespace, inline
                                  between an af_packet port and a null port
  require_root()                  why these tests cannot run here, or None

Everything started is stopped by its stop()/delete()/cleanup() (or the
context manager), and again at exit for what a crashed test left behind.
test/fleet/check_env.py checks all of it.

nats-server 2.9.10 notes: /healthz?js-enabled-only=true answers ok as soon
as JetStream is enabled, before any meta leader exists; plain /healthz
waits for contact with the meta leader; /jsz's meta_cluster names the leader
and whether each peer is current (a killed leader stays named by the others
for a moment: wait for a leader that is running); /routez lists routes by
server id, which is new after every start. A restarted node needs a few
seconds to rejoin; publishing to an R3 stream whose leader was killed
fails (timeout or no responders) for about 5 s until a new one is elected.

Live timing: packet time on an af_packet port is the wall clock when the
worker reads the frame, so anything that delays the frames or the worker
shows up as a burst in one window: a sender that falls behind and catches
up, a worker kept off its CPU past the socket ring's capacity (Appliance
uses 4,096 frames, not DPDK's 512), or a reporter stalled on fsync (state
on a busy disk), which makes workers fold windows together. Appliance and
send_pcap() avoid the three.
"""

import atexit
import base64
import errno
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

NATS_SERVER = "/usr/sbin/nats-server"


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (held together while chosen)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _stop_process(p, grace=10.0, sig=signal.SIGTERM):
    """Signals a process we started and waits; SIGKILL after `grace` s."""
    if p is None or p.poll() is not None:
        return
    p.send_signal(sig)
    try:
        p.wait(grace)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


# --------------------------------------------------------------------- NATS

class NatsCluster:
    """`nodes` nats-server processes on 127.0.0.1, JetStream enabled, one
    cluster (full mesh of routes). Ports are chosen once and kept across
    restarts (the routes name them). Node i's files: workdir/nI.conf,
    workdir/nI/ (JetStream store), workdir/nI.log (appended to on restart)."""

    def __init__(self, workdir, nodes=3, name="sgfleet", binary=NATS_SERVER):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.nodes = nodes
        self.name = name
        self.binary = binary
        ports = free_ports(3 * nodes)
        self.client_ports = ports[0:nodes]
        self.route_ports = ports[nodes:2 * nodes]
        self.http_ports = ports[2 * nodes:3 * nodes]
        self.names = [f"{name}-{i}" for i in range(nodes)]
        self.logs = [self.workdir / f"n{i}.log" for i in range(nodes)]
        self.configs = [self.workdir / f"n{i}.conf" for i in range(nodes)]
        self.procs = [None] * nodes
        for i in range(nodes):
            self.configs[i].write_text(self._config(i))
        atexit.register(self.stop)

    def _config(self, i):
        routes = ", ".join(f'"nats-route://127.0.0.1:{p}"' for j, p in enumerate(self.route_ports) if j != i)
        return f"""# node {i} of {self.nodes}, written by test/fleet/fleet_env.py
server_name: "{self.names[i]}"
listen: "127.0.0.1:{self.client_ports[i]}"
http: "127.0.0.1:{self.http_ports[i]}"
logtime: true
# A window message can exceed the 1 MiB default (docs/fleet.md, sizing).
max_payload: 4194304
jetstream {{
  store_dir: "{self.workdir / f'n{i}'}"
  max_memory_store: 67108864
  max_file_store: 268435456
}}
cluster {{
  name: "{self.name}"
  listen: "127.0.0.1:{self.route_ports[i]}"
  routes: [{routes}]
}}
"""

    def _spawn(self, i):
        log = open(self.logs[i], "ab")
        try:
            self.procs[i] = subprocess.Popen([self.binary, "-c", str(self.configs[i])], stdout=log,
                                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        finally:
            log.close()

    def start(self):
        for i in range(self.nodes):
            if not self.running(i):
                self._spawn(i)
        return self

    def running(self, i):
        return self.procs[i] is not None and self.procs[i].poll() is None

    def url(self, i):
        return f"nats://127.0.0.1:{self.client_ports[i]}"

    def urls(self):
        """Every node's client URL, comma-separated (what NATS clients accept)."""
        return ",".join(self.url(i) for i in range(self.nodes))

    def monitor(self, i, path, timeout=2.0):
        """GET a monitoring endpoint of node i ("/jsz", "/routez", ...): (HTTP status, JSON body)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_ports[i]}{path}", timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            try:
                return e.code, json.loads(e.read() or b"null")
            except ValueError:
                return e.code, None

    def _state(self):
        """(ready, why not): every running node healthy, routed to every
        other running node, and all agreeing on one current meta leader."""
        live = [i for i in range(self.nodes) if self.running(i)]
        if not live:
            return False, "no node is running"
        ids, leaders = {}, set()
        for i in live:
            try:
                code, health = self.monitor(i, "/healthz")
                if code != 200:
                    return False, f"node {i}: /healthz {code} {health}"
                ids[i] = self.monitor(i, "/varz")[1]["server_id"]
            except (OSError, ValueError, KeyError, TypeError) as e:
                return False, f"node {i}: monitoring not answering ({e})"
        for i in live:
            try:
                routes = {r.get("remote_id") for r in self.monitor(i, "/routez")[1].get("routes") or []}
                meta = self.monitor(i, "/jsz")[1].get("meta_cluster") or {}
            except (OSError, ValueError, AttributeError) as e:
                return False, f"node {i}: monitoring not answering ({e})"
            missing = [j for j in live if j != i and ids[j] not in routes]
            if missing:
                return False, f"node {i}: no route to node(s) {missing}"
            if not meta.get("leader"):
                return False, f"node {i}: no JetStream meta leader"
            leaders.add(meta["leader"])
            lagging = [r.get("name") for r in meta.get("replicas") or []
                       if r.get("name") in [self.names[j] for j in live] and not r.get("current")]
            if lagging:
                return False, f"node {i}: meta peers not current: {lagging}"
        if len(leaders) != 1:
            return False, f"nodes disagree on the meta leader: {sorted(leaders)}"
        if next(iter(leaders)) not in [self.names[i] for i in live]:
            return False, f"the meta leader {next(iter(leaders))} is not running (an election is due)"
        return True, f"meta leader {leaders.pop()}"

    def wait_ready(self, timeout=30.0):
        """Waits until every running node answers /healthz (which in 2.9
        needs contact with a JetStream meta leader), has a route to every
        other running node, and all name the same meta leader with every
        running peer current. Raises RuntimeError with the last reason and
        the logs' tails on timeout; returns the leader's name."""
        deadline = time.time() + timeout
        while True:
            for i in range(self.nodes):
                if self.procs[i] is not None and self.procs[i].poll() is not None and self.procs[i].returncode > 0:
                    raise RuntimeError(f"nats node {i} exited {self.procs[i].returncode}:\n{self.log_tail(i)}")
            ok, why = self._state()
            if ok:
                return self.leader()
            if time.time() > deadline:
                tails = "\n".join(f"--- node {i}\n{self.log_tail(i)}" for i in range(self.nodes))
                raise RuntimeError(f"NATS cluster not ready after {timeout:.0f} s: {why}\n{tails}")
            time.sleep(0.2)

    def leader(self):
        """The JetStream meta leader's server name, as a running node sees it (None if none)."""
        for i in range(self.nodes):
            if self.running(i):
                try:
                    return (self.monitor(i, "/jsz")[1].get("meta_cluster") or {}).get("leader")
                except (OSError, ValueError, AttributeError):
                    continue
        return None

    def local_streams(self, i):
        """The streams node i stores itself, as it sees them: {name: {"state": ..., "cluster": ...}}."""
        body = self.monitor(i, "/jsz?accounts=true&streams=true")[1] or {}
        out = {}
        for account in body.get("account_details") or []:
            for st in account.get("stream_detail") or []:
                out[st["name"]] = st
        return out

    def index(self, server_name):
        return self.names.index(server_name)

    def kill(self, i):
        """SIGKILL node i (its store stays: a restart rejoins with it)."""
        p = self.procs[i]
        if p is not None and p.poll() is None:
            p.kill()
            p.wait()

    def restart(self, i):
        """Starts node i again (after kill or stop), same ports and store."""
        self.kill(i)
        self._spawn(i)

    def stop(self):
        """Stops every node (SIGTERM, SIGKILL after 10 s). Idempotent."""
        for i in range(self.nodes):
            _stop_process(self.procs[i])

    def log_tail(self, i, lines=20):
        try:
            return "\n".join(self.logs[i].read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class NatsError(Exception):
    pass


class NatsClient:
    """A minimal synchronous NATS client for tests: one TCP connection to the
    first URL that answers, PUB/HPUB, SUB on one reply inbox, request/reply.
    No reconnect (make a new client), no TLS, no auth.

        c = NatsClient(cluster.urls())
        c.js("STREAM.CREATE.FLEET", {"name": "FLEET", "subjects": ["fleet.>"], "num_replicas": 3})
        c.publish("fleet.x", b"data", ack=True)    # -> {"stream": "FLEET", "seq": 1}
    """

    def __init__(self, urls, timeout=5.0, name="fleet-test"):
        self.sock = None
        self.buf = bytearray()
        self.timeout = timeout
        self.inbox = f"_INBOX.{os.urandom(8).hex()}"
        self.next_reply = 0
        errors = []
        for url in urls.split(",") if isinstance(urls, str) else urls:
            host, port = url.strip().removeprefix("nats://").rsplit(":", 1)
            try:
                self.sock = socket.create_connection((host, int(port)), timeout=timeout)
                break
            except OSError as e:
                errors.append(f"{url}: {e}")
        if self.sock is None:
            raise NatsError("no NATS server answered: " + "; ".join(errors))
        line = self._line()
        if not line.startswith(b"INFO "):
            raise NatsError(f"expected INFO, got {line[:200]!r}")
        self.info = json.loads(line[5:])
        connect = {"verbose": False, "pedantic": False, "lang": "python-test", "version": "0", "protocol": 1,
                   "headers": True, "no_responders": True, "name": name}
        self._send(b"CONNECT " + json.dumps(connect).encode() + b"\r\nPING\r\n")
        while True:
            line = self._line()
            if line == b"PONG":
                break
            if line.startswith(b"-ERR"):
                raise NatsError(line.decode(errors="replace"))
        self._send(f"SUB {self.inbox}.* 1\r\n".encode())

    def _send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        remaining = deadline - time.time()
        if remaining <= 0:
            raise TimeoutError("NATS: timed out")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("NATS: timed out") from None
        if not chunk:
            raise NatsError("NATS: connection closed by the server")
        self.buf += chunk

    def _line(self, deadline=None):
        deadline = deadline or time.time() + self.timeout
        while b"\r\n" not in self.buf:
            self._fill(deadline)
        i = self.buf.index(b"\r\n")
        line = bytes(self.buf[:i])
        del self.buf[:i + 2]
        return line

    def _bytes(self, n, deadline):
        while len(self.buf) < n + 2:
            self._fill(deadline)
        data = bytes(self.buf[:n])
        del self.buf[:n + 2]
        return data

    def _next_message(self, deadline):
        """The next MSG/HMSG: (subject, headers text or None, payload); answers PINGs."""
        while True:
            line = self._line(deadline)
            if line == b"PING":
                self._send(b"PONG\r\n")
                continue
            if line in (b"PONG", b"+OK") or not line:
                continue
            if line.startswith(b"-ERR"):
                raise NatsError(line.decode(errors="replace"))
            parts = line.split()
            if parts[0] == b"MSG":
                return parts[1].decode(), None, self._bytes(int(parts[-1]), deadline)
            if parts[0] == b"HMSG":
                hlen, total = int(parts[-2]), int(parts[-1])
                data = self._bytes(total, deadline)
                return parts[1].decode(), data[:hlen].decode(errors="replace"), data[hlen:]
            if parts[0] == b"INFO":
                continue
            raise NatsError(f"unexpected from the server: {line[:200]!r}")

    @staticmethod
    def _encode(payload):
        if isinstance(payload, (dict, list)):
            return json.dumps(payload).encode()
        if isinstance(payload, str):
            return payload.encode()
        return bytes(payload or b"")

    def publish(self, subject, payload=b"", headers=None, reply=None, ack=False, timeout=None):
        """Publishes. ack=True makes it a request and returns JetStream's
        publish acknowledgement (a dict; NatsError on an error answer)."""
        if ack:
            reply = self._reply_subject()
        data = self._encode(payload)
        target = f"{subject} {reply}" if reply else subject
        if headers:
            h = ("NATS/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()
            self._send(f"HPUB {target} {len(h)} {len(h) + len(data)}\r\n".encode() + h + data + b"\r\n")
        else:
            self._send(f"PUB {target} {len(data)}\r\n".encode() + data + b"\r\n")
        if ack:
            return self._json_answer(subject, reply, timeout)
        return None

    def _reply_subject(self):
        self.next_reply += 1
        return f"{self.inbox}.{self.next_reply}"

    def _await(self, reply, timeout):
        deadline = time.time() + (timeout or self.timeout)
        while True:
            subject, headers, data = self._next_message(deadline)
            if subject != reply:
                continue  # a late answer to an earlier request
            if headers and headers.split("\r\n", 1)[0].split()[1:2] == ["503"]:
                raise NatsError("no responders")
            return headers, data

    def _json_answer(self, subject, reply, timeout):
        _, data = self._await(reply, timeout)
        body = json.loads(data)
        if isinstance(body, dict) and body.get("error"):
            raise NatsError(f"{subject}: {body['error']}")
        return body

    def request(self, subject, payload=b"", timeout=None):
        """Request/reply: (headers text or None, payload bytes)."""
        reply = self._reply_subject()
        data = self._encode(payload)
        self._send(f"PUB {subject} {reply} {len(data)}\r\n".encode() + data + b"\r\n")
        return self._await(reply, timeout)

    def js(self, api, body=None, timeout=None):
        """A JetStream API call: js("STREAM.INFO.FLEET") -> the JSON answer;
        NatsError when it carries an error."""
        reply = self._reply_subject()
        subject = f"$JS.API.{api}"
        data = self._encode(body) if body is not None else b""
        self._send(f"PUB {subject} {reply} {len(data)}\r\n".encode() + data + b"\r\n")
        return self._json_answer(subject, reply, timeout)

    def get_message(self, stream, seq=None, last_by_subject=None):
        """A stream's stored message: {"subject", "seq", "data" (bytes), "time", "headers"}."""
        req = {"seq": seq} if seq is not None else {"last_by_subj": last_by_subject}
        m = self.js(f"STREAM.MSG.GET.{stream}", req)["message"]
        m["data"] = base64.b64decode(m.get("data") or "")
        if m.get("hdrs"):
            m["headers"] = base64.b64decode(m["hdrs"]).decode(errors="replace")
        return m

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------- namespaces, veths

def require_root():
    """None when namespaces can be made here; otherwise why not (a skip message)."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, veth pairs, af_packet)"
    if shutil.which("ip") is None:
        return "needs iproute2's `ip`"
    probe = f"sgprobe{os.getpid()}"
    p = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if p.returncode != 0:
        return f"`ip netns add` does not work here: {p.stderr.strip()}"
    p = subprocess.run(["ip", "-n", probe, "link", "add", "sgprobe0", "type", "veth", "peer", "name", "sgprobe1"],
                       capture_output=True, text=True)
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    if p.returncode != 0:
        return f"cannot create veth pairs here: {p.stderr.strip()}"
    return None


def require_tools(*names):
    """None when every program is on PATH; otherwise which are missing."""
    missing = [n for n in names if shutil.which(n) is None]
    return f"missing: {', '.join(missing)}" if missing else None


# The kernel's legacy ethtool ioctls (linux/ethtool.h): each sets one offload
# without the ethtool program (not installed by default on Debian).
SIOCETHTOOL = 0x8946
ETHTOOL_OFFLOADS = {"tso": (0x1E, 0x1F), "gso": (0x23, 0x24), "gro": (0x2B, 0x2C)}  # name: (get, set)

_OFFLOAD_SCRIPT = r"""
import array, fcntl, json, socket, struct, sys
ops = json.loads(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
def ethtool(dev, cmd, data=0):
    buf = array.array("B", struct.pack("II", cmd, data))
    fcntl.ioctl(s, %d, struct.pack("16sP", dev.encode(), buf.buffer_info()[0]) + b"\0" * 16)
    return struct.unpack("II", buf.tobytes())[1]
out = {}
for dev in ops["devices"]:
    out[dev] = {}
    for name, (get, set_) in ops["offloads"].items():
        try:
            ethtool(dev, set_, 0)
        except OSError:
            pass  # fixed for this device: reported by the read below
        out[dev][name] = ethtool(dev, get)
print(json.dumps(out))
""" % SIOCETHTOOL


class Netns:
    """A network namespace with `pairs` veth pairs whose two ends are both
    inside it: feed one end (tcpreplay), capture on the other (af_packet).

        with Netns("sgfleet", pairs=2) as ns:      # sga0/sga1, sgb0/sgb1
            ns.run(["ip", "link"])
            p = ns.popen([safeguard, "run", ...])

    `pairs` is a count (names sg<letter>0 / sg<letter>1) or a list of
    (end0, end1) names. The interfaces are up with MTU `mtu`; GRO, GSO and
    TSO are off (so no segment is merged or split on the way; `offloads`
    has what the kernel reports after); IPv6 is off in the namespace before
    the veths exist, and there are no IPv4 addresses, so the kernel sends
    no router solicitation, neighbour discovery, ARP or IGMP of its own. A
    namespace of the same name left by an earlier run is deleted first."""

    def __init__(self, name, pairs=1, mtu=1500):
        self.name = name
        if isinstance(pairs, int):
            pairs = [(f"sg{chr(ord('a') + k)}0", f"sg{chr(ord('a') + k)}1") for k in range(pairs)]
        self.pairs = [tuple(p) for p in pairs]
        self.mtu = mtu
        self.offloads = {}
        self.created = False
        if name in self.list():
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        self._ip("netns", "add", name, netns=False)
        self.created = True
        atexit.register(self.delete)
        try:
            self._setup()
        except Exception:
            self.delete()
            raise

    @staticmethod
    def list():
        out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        return [line.split()[0] for line in out.splitlines() if line.strip()]

    def _ip(self, *args, netns=True):
        cmd = ["ip", *(["-n", self.name] if netns else []), *args]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: {p.stderr.strip()}")
        return p.stdout

    def _setup(self):
        have_ipv6 = os.path.exists("/proc/sys/net/ipv6")
        if have_ipv6:
            self.run(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"])
        self._ip("link", "set", "lo", "up")
        for a, b in self.pairs:
            self._ip("link", "add", a, "type", "veth", "peer", "name", b)
        devices = [d for pair in self.pairs for d in pair]
        for d in devices:
            self._ip("link", "set", d, "mtu", str(self.mtu))
            if have_ipv6:
                self.run(["sysctl", "-qw", f"net.ipv6.conf.{d}.disable_ipv6=1"])
        ops = json.dumps({"devices": devices, "offloads": ETHTOOL_OFFLOADS})
        self.offloads = json.loads(self.run(["/usr/bin/python3", "-c", _OFFLOAD_SCRIPT, ops]).stdout)
        for d in devices:
            self._ip("link", "set", d, "up")

    def cmd(self, argv):
        """argv run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *[str(a) for a in argv]]

    def run(self, argv, check=True, **kw):
        """subprocess.run inside the namespace (text output captured unless told otherwise)."""
        kw.setdefault("capture_output", "stdout" not in kw and "stderr" not in kw)
        kw.setdefault("text", True)
        p = subprocess.run(self.cmd(argv), **kw)
        if check and p.returncode != 0:
            raise RuntimeError(f"in {self.name}: {' '.join(map(str, argv))} exited {p.returncode}: "
                               f"{(p.stderr or '').strip()[-1000:]}")
        return p

    def popen(self, argv, **kw):
        """subprocess.Popen inside the namespace. `ip netns exec` execs the
        program, so the Popen's pid is the program's own (signals reach it)."""
        return subprocess.Popen(self.cmd(argv), **kw)

    def pids(self):
        """Processes still inside the namespace."""
        out = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True, text=True).stdout
        return [int(x) for x in out.split()]

    def link_stats(self, dev):
        """The interface's kernel counters: {"rx_packets", "tx_packets", "rx_dropped", ...}."""
        out = self.run(["ip", "-j", "-s", "link", "show", dev]).stdout
        s = json.loads(out)[0]["stats64"]
        return {f"{d}_{k}": v for d in ("rx", "tx") for k, v in s[d].items()}

    def delete(self):
        """Deletes the namespace (its veths go with it). Idempotent."""
        if self.created:
            self.created = False
            subprocess.run(["ip", "netns", "del", self.name], capture_output=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.delete()


def tcpreplay(ns, iface, pcap, extra=(), **kw):
    """Starts tcpreplay inside `ns` sending `pcap` out of `iface` at the
    capture's recorded speed (relative times; the first packet goes at
    once). Preloads the file (-K) so disk reads do not disturb the pacing,
    sleeps with nanosleep (-T nano: the default, gtod, busy-waits and
    drifts most on a loaded machine); quiet apart from its final
    statistics, which tcpreplay_sent() reads. Returns the Popen (stdout and
    stderr together, text).

    tcpreplay 4.4.3 falls behind the capture's clock when the machine is
    busy (measured on the 2-core build machine during a compile: 42.1 s of
    capture took 46.7 s with -T nano, 56.3 s with gtod), which lowers every
    rate in the capture; send_pcap() keeps to the capture's clock."""
    argv = ["tcpreplay", "-q", "-K", "-T", "nano", "--no-flow-stats", "-i", iface, *extra, str(pcap)]
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.STDOUT)
    kw.setdefault("text", True)
    return ns.popen(argv, **kw)


def tcpreplay_sent(output):
    """(successful, failed) packet counts from tcpreplay's final statistics."""
    def count(label):
        for line in output.splitlines():
            if line.strip().startswith(label):
                return int(line.split(":")[1].split()[0])
        return None
    return count("Successful packets:"), count("Failed packets:")


def tcpreplay_seconds(output):
    """How long tcpreplay took to send, by its own count ("Actual: ... sent in S seconds")."""
    for line in output.splitlines():
        if line.strip().startswith("Actual:") and " sent in " in line:
            return float(line.split(" sent in ")[1].split()[0])
    return None


def send_pcap(ns, iface, pcap, at=None, speed=1.0, **kw):
    """Starts this module's own sender inside `ns` (a tcpreplay that keeps
    to the capture's clock): each packet of `pcap` goes out of `iface`
    (AF_PACKET) at start + (its time - the first packet's time) / speed,
    every deadline computed from the start, so lateness never accumulates;
    a packet already late goes at once. `at`: the start as a time.time()
    value (two senders given the same `at` start together; give the
    processes a second or two to get there; default: now). Returns the
    Popen; its stdout ends with one JSON line that send_result() reads:
    {"sent", "failed", "seconds", "started_late_ms", "late_max_ms",
    "late_over_10ms"}."""
    argv = ["/usr/bin/python3", str(Path(__file__).resolve()), "send", iface, str(pcap), "--speed", str(speed)]
    if at is not None:
        argv += ["--at", repr(at)]
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.STDOUT)
    kw.setdefault("text", True)
    return ns.popen(argv, **kw)


def send_result(output):
    """The statistics send_pcap()'s process printed last (None if none)."""
    for line in reversed(output.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return None


def read_pcap(path):
    """[(seconds, frame bytes)] of a classic pcap file (micro- or nanosecond, either byte order)."""
    data = Path(path).read_bytes()
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    scale = 1e-9 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e-6
    out, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack_from(endian + "IIII", data, off)
        out.append((sec + frac * scale, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return out


def _send_main(argv):
    """`fleet_env.py send IFACE PCAP [--speed X] [--at T]`: send_pcap()'s process."""
    import argparse
    ap = argparse.ArgumentParser(prog="fleet_env.py send")
    ap.add_argument("iface")
    ap.add_argument("pcap")
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--at", type=float, default=None)
    args = ap.parse_args(argv)
    packets = read_pcap(args.pcap)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    s.bind((args.iface, 0))
    t0 = packets[0][0] if packets else 0.0
    # Every deadline counts from `at` (or now), also when this process
    # started after it: then the first packets are late and catch up.
    start = time.monotonic() + ((args.at - time.time()) if args.at is not None else 0.0)
    started_late = max(0.0, time.monotonic() - start)
    sent = failed = late_over = 0
    late_max = 0.0
    for t, frame in packets:
        due = start + (t - t0) / args.speed
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        late = time.monotonic() - due
        late_max = max(late_max, late)
        late_over += late > 0.010
        for _ in range(100):
            try:
                s.send(frame)
                sent += 1
                break
            except OSError as e:  # ENOBUFS: the queue is full for a moment
                if e.errno not in (errno.ENOBUFS, errno.EAGAIN):
                    failed += 1
                    break
                time.sleep(0.0005)
        else:
            failed += 1
    print(json.dumps({"sent": sent, "failed": failed, "seconds": round(time.monotonic() - start, 3),
                      "started_late_ms": round(started_late * 1000, 1), "late_max_ms": round(late_max * 1000, 1),
                      "late_over_10ms": late_over}), flush=True)
    return 0 if failed == 0 else 1


def pcap_count(path):
    """Records in a classic pcap file."""
    return len(read_pcap(path))


# ------------------------------------------------------------------ appliance

def eal_args(name, cpus=None):
    """EAL arguments for one appliance among several on a small machine: no
    hugepages, no PCI, no shared config (each its own --file-prefix too),
    the main lcore and one worker lcore on the given CPUs."""
    if cpus is None:
        avail = sorted(os.sched_getaffinity(0))
        cpus = (avail[0], avail[1 % len(avail)])
    lcores = ",".join(f"{i}@{c}" for i, c in enumerate(cpus))
    return ["--no-huge", "--no-pci", "--no-shconf", "--file-prefix", name, "-m", "768", "--no-telemetry",
            "--log-level", "*:warning", "--lcores", lcores]


DEPLOYMENTS = """deployments:
  - name: web
    owner: web-owner@example.com
    prefixes: [10.1.0.0/16]
  - name: db
    owner: db-owner@example.com
    prefixes: [10.2.0.0/16]
"""


# The af_packet socket's ring: 4,096 frames of 2 KiB (8 MiB) instead of
# DPDK's 512, so a worker kept off its CPU for a few seconds loses nothing
# (losses there are invisible to DPDK's counters).
AF_PACKET_OPTS = "blocksz=4096,framesz=2048,framecnt=4096"


class Appliance:
    """`safeguard run` inside a namespace: inline between
    net_af_packet0 on `iface` (what tcpreplay sends into the veth's other
    end) and a null port that swallows what is forwarded. Its folder
    (workdir/name/) holds config.yaml, daemon.log, report.json and
    eve.json; the state directory is on /dev/shm unless given (cleanup()
    removes it). `extra` is appended to the config (YAML).
    Packet time is the wall clock when the worker reads the frame (DPDK
    22.11's af_packet gives no kernel timestamp): a worker kept off its
    CPU reads a backlog at once, and its windows see it late, in a burst."""

    def __init__(self, ns, safeguard, workdir, name, iface, thresholds=None, cpus=None, extra="",
                 af_packet=AF_PACKET_OPTS, state_dir=None):
        self.ns = ns
        self.safeguard = str(safeguard)
        self.dir = Path(workdir) / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        # The incident journal and outbox are fsynced by the reporter: on a
        # disk busy with other work that can stall it for seconds, and a
        # stalled reporter makes the workers fold windows together (their
        # counts then read as a burst). A tmpfs keeps fsync instant.
        self.own_state = state_dir is None
        if state_dir is None:
            shm = Path("/dev/shm")
            state_dir = (shm / f"sgfleet-{os.getpid()}-{name}") if shm.is_dir() else self.dir / "state"
        self.state_dir = Path(state_dir)
        self.config = self.dir / "config.yaml"
        self.log = self.dir / "daemon.log"
        self.report_path = self.dir / "report.json"
        self.eve_path = self.dir / "eve.json"
        detect = f"detect: {{thresholds: {thresholds}}}\n" if thresholds else ""
        self.config.write_text(f"""# appliance {name}, written by test/fleet/fleet_env.py
mode: inline
workers: 1
eal: {json.dumps(eal_args(f"sg-{name}", cpus))}
ports:
  - name: tap0
    device: "net_af_packet0,iface={iface}{',' + af_packet if af_packet else ''}"
  - name: sink
    device: "net_null0,no-rx=1"
inline_pairs:
  - [tap0, sink]
# ring: the worker -> reporter records; at SIGTERM every open flow is ended
# at once (tens of thousands in a flood), which overflows the default 4,096
# and loses the last window summary with them.
sizes: {{ring: 65536}}
{DEPLOYMENTS}{detect}state_dir: {self.state_dir}
outputs: {{report: {self.report_path}, eve: {self.eve_path}}}
{extra}""")
        self.proc = None
        atexit.register(self.cleanup)

    def start(self, timeout=60.0):
        """Starts the daemon and waits for its "running:" line."""
        with open(self.log, "ab") as log:
            self.proc = self.ns.popen([self.safeguard, "run", "--config", str(self.config)], stdout=log,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.time() + timeout
        while "running:" not in self.log_text():
            if self.proc.poll() is not None or time.time() > deadline:
                self.kill()
                raise RuntimeError(f"{self.name}: the daemon did not start: {self.log_text()[-2000:]}")
            time.sleep(0.1)
        return self

    def log_text(self):
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout=60.0):
        """SIGTERM, wait; returns the exit status (the report is written by then)."""
        if self.proc is None:
            return None
        _stop_process(self.proc, grace=timeout)
        return self.proc.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def cleanup(self):
        """Kills the daemon if it still runs and removes a state directory it was given on /dev/shm."""
        self.kill()
        if self.own_state and str(self.state_dir).startswith("/dev/shm/"):
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def report(self):
        return json.loads(self.report_path.read_text())

    def eve(self):
        if not self.eve_path.exists():
            return []
        return [json.loads(line) for line in self.eve_path.read_text().splitlines() if line.strip()]


if __name__ == "__main__":
    import sys
    if len(sys.argv) > 1 and sys.argv[1] == "send":
        sys.exit(_send_main(sys.argv[2:]))
    print(__doc__)
    sys.exit(2)
