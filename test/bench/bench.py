#!/usr/bin/python3
"""Safeguard's benchmark (issue 7): one invocation, the same inputs, side by
side. Run it through scripts/bench.sh; docs/benchmarks.md explains every
number. Not part of CI: it prints figures, it asserts nothing but the reload
target (exit 1 when a reload lost packets).

Sections (--only NAME[,NAME] runs a subset):
  stages    in-memory replay (net_pcap infinite_rx, `safeguard run`, one worker
            polling the port itself) of each input through --stage null,
            parse, detect, full with ET plain-strict and with the full
            supported ET Open set, for --seconds each (best of --repeat)
  replay    `safeguard replay` of the same files Suricata reads, 1 and 2
            workers, ET plain-strict
  workers   in-memory, full pipeline with ET plain-strict, 1 and 2 workers
  suricata  Suricata 7 --runmode single on the same files and rules
  alerts    per-signature alert counts of both engines on the corpus file
  rules     `safeguard rules check` compile time and peak RSS per rule set
  flood     peak RSS under 1 (and 10) million spoofed sources
            (scripts/bench-flood-memory.sh)
  reload    packets lost across a SIGHUP reload under load: tcpreplay at
            --reload-pps into a veth pair, Safeguard on net_af_packet (root)

Rates are per worker core: packets over the CPU time of the worker threads
(CLOCK_THREAD_CPUTIME_ID, from their first burst to their stop), so other
jobs on a shared machine slow the run but barely move the figure; the wall
rate (packets over the time from the first burst to the stop) is printed
beside it. EAL start-up, capture preloading and rule compilation are not
part of either.
"""

import argparse
import collections
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROTECT = "bench=10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"
HOME_NET = "[10.0.0.0/8,172.16.0.0/12,192.168.0.0/16]"
MBUF_BYTES = 2560        # one mbuf with its headroom and header, rounded up
SYN_PACKETS = 131072     # twice the default flow table: every SYN a new flow
IMIX_PACKETS = 120000
INMEM_CORPUS_COPIES = 4  # the corpus in memory: 4 x 28,386 frames


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Bench:
    def __init__(self, args):
        self.a = args
        self.safeguard = Path(args.build) / "app" / "safeguard" / "safeguard"
        self.work = Path(args.work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.corpus = Path(args.corpus)
        self.have_corpus = (self.corpus / "pcaps").is_dir()
        rules = self.corpus / "rules"
        self.strict = rules / "et-open-plain-strict.rules"
        self.et_dir = rules / "et-open-suricata-5.0-enhanced-2024-04-21"
        self.classification = self.et_dir / "classification.config"
        self.results = collections.OrderedDict()
        self.inputs = collections.OrderedDict()  # name -> (path, packets, bytes)
        self.files = collections.OrderedDict()   # name -> file read by replay and Suricata
        self.failures = []
        self.reload_file = None

    # ---- inputs ---------------------------------------------------------

    def capinfo(self, path):
        out = subprocess.run(["capinfos", "-T", "-r", "-c", "-d", str(path)], capture_output=True, text=True,
                             check=True).stdout.split("\t")
        return int(out[1]), int(out[2])

    def make_inputs(self):
        gen = ROOT / "scripts" / "gen-bulk-pcap.py"
        syn = self.work / f"syn-{SYN_PACKETS}.pcap"
        if not syn.exists():
            subprocess.run(["/usr/bin/python3", str(gen), "syn-flood", str(syn), "--packets", str(SYN_PACKETS),
                            "--sources", str(SYN_PACKETS)], check=True)
        imix = self.work / f"imix-{IMIX_PACKETS}.pcap"
        if not imix.exists():
            subprocess.run(["/usr/bin/python3", str(gen), "imix", str(imix), "--packets", str(IMIX_PACKETS)], check=True)
        self.inputs["syn64"] = (syn, *self.capinfo(syn))
        self.inputs["imix"] = (imix, *self.capinfo(imix))
        self.files["syn64"] = syn
        self.files["imix"] = imix
        if not self.have_corpus:
            log(f"bench: no corpus at {self.corpus}: the corpus input, the ET rule sets and Suricata's "
                "comparison on real traffic are left out")
            return
        merge = ROOT / "test" / "bench" / "merge_corpus.py"
        # In memory the driver loops over its file: four copies with shifted
        # hosts (merge_corpus.py), so that even the slowest run sees new
        # flows, as a reader of a long capture would.
        one = self.work / f"corpus-x{INMEM_CORPUS_COPIES}.pcap"
        many = self.work / f"corpus-x{self.a.corpus_copies}.pcap"
        for path, copies in ((one, INMEM_CORPUS_COPIES), (many, self.a.corpus_copies)):
            if not path.exists():
                subprocess.run(["/usr/bin/python3", str(merge), str(self.corpus), str(path), "--copies", str(copies)],
                               check=True)
        self.inputs["corpus"] = (one, *self.capinfo(one))
        self.files["corpus"] = many
        # About 4 s at the reload test's 20,000 packets/s: the reload (parse
        # and compile, about 1 s) happens while packets flow.
        self.reload_file = self.work / "corpus-x3.pcap"
        if not self.reload_file.exists():
            subprocess.run(["/usr/bin/python3", str(merge), str(self.corpus), str(self.reload_file), "--copies", "3"],
                           check=True)

    # ---- safeguard runs -------------------------------------------------

    def rule_args(self, rules):
        if rules == "strict":
            return ["--rules", str(self.strict), "--classification", str(self.classification)]
        if rules == "et":
            args = []
            for f in sorted(self.et_dir.glob("*.rules")):
                args += ["--rules", str(f)]
            return args + ["--classification", str(self.classification)]
        return []

    @staticmethod
    def eal(lcores, megabytes):
        cpus = os.sched_getaffinity(0)
        cpus = sorted(cpus) or [0]
        lmap = ",".join(f"{i}@{cpus[i % len(cpus)]}" for i in range(lcores))
        return (f"--no-huge --no-pci --no-shconf -m {megabytes} --no-telemetry --log-level *:warning "
                f"--lcores {lmap}")

    def wait_running(self, proc, err_path, timeout=300):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return False
            try:
                if "running:" in err_path.read_text(errors="replace"):
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def summarize(self, report, extra=None):
        workers = report["runtime"]["workers"]
        packets = sum(w["packets"] for w in workers)
        out = {
            "packets": packets,
            "bytes": sum(w["bytes"] for w in workers),
            "cpu_ns": sum(w["cpu_ns"] for w in workers),
            "wall_ns": max(w["active_ns"] for w in workers) if workers else 0,
            "flows_evicted": report["runtime"]["flows_evicted"],
            "ring_drops": report["runtime"]["ring_drops"],
            "alerts": sum(a.get("count", 0) for a in report.get("alerts", [])),
        }
        out.update(extra or {})
        return out

    def inmemory(self, name, stage, rules, workers=1, seconds=None):
        """`safeguard run` on net_pcap infinite_rx for `seconds`, then SIGTERM."""
        path, packets, _ = self.inputs[name]
        seconds = seconds or self.a.seconds
        mbufs = min(packets + 65536, 1 << 24)
        megabytes = 768 + mbufs * MBUF_BYTES // (1 << 20) + 128 * workers
        tag = f"inmem-{name}-{stage}-{rules or 'none'}-w{workers}"
        cfg = self.work / f"{tag}.yaml"
        cfg.write_text(f"mode: tap\nworkers: {workers}\nsizes:\n  mbufs: {mbufs}\nports:\n"
                       f"  - name: wire0\n    device: \"net_pcap0,rx_pcap={path},infinite_rx=1\"\n")
        report, err = self.work / f"{tag}.json", self.work / f"{tag}.err"
        report.unlink(missing_ok=True)
        cmd = [str(self.safeguard), "run", "--config", str(cfg), "--eal", self.eal(workers + 1, megabytes),
               "--stage", stage, "--protect", PROTECT, "--report", str(report)] + self.rule_args(rules)
        with open(err, "w") as ef:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=ef)
            if not self.wait_running(proc, err):
                proc.kill()
                proc.wait()
                raise RuntimeError(f"{tag}: safeguard did not start; see {err}")
            time.sleep(seconds)
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=120)
        if rc != 0 or not report.exists():
            raise RuntimeError(f"{tag}: exit {rc}; see {err}")
        return self.summarize(json.loads(report.read_text()))

    def replay(self, name, rules, workers):
        pcap = self.files[name]
        tag = f"replay-{name}-{rules or 'none'}-w{workers}"
        report, err = self.work / f"{tag}.json", self.work / f"{tag}.err"
        cmd = [str(self.safeguard), "replay", "--workers", str(workers), "--protect", PROTECT,
               "--report", str(report)] + self.rule_args(rules) + [str(pcap)]
        t0 = time.monotonic()
        with open(err, "w") as ef:
            rc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=ef).returncode
        if rc != 0:
            raise RuntimeError(f"{tag}: exit {rc}; see {err}")
        rep = json.loads(report.read_text())
        return self.summarize(rep, {"process_s": time.monotonic() - t0, "report": str(report)})

    # ---- sections -------------------------------------------------------

    def stage_configs(self):
        configs = [("null", "null", None), ("parse", "parse", None), ("detect", "detect", None)]
        if self.have_corpus:
            configs.append(("full+strict", "full", "strict"))
            if not self.a.quick:
                configs.append(("full+ET", "full", "et"))
        else:
            configs.append(("full", "full", None))
        return configs

    def section_stages(self):
        best = {}
        for r in range(self.a.repeat):
            for name in self.inputs:
                for label, stage, rules in self.stage_configs():
                    log(f"bench: stages round {r + 1}/{self.a.repeat}: {name} {label}")
                    res = self.inmemory(name, stage, rules)
                    key = (name, label)
                    # Best of the rounds: interference only ever slows a run.
                    if key not in best or res["cpu_ns"] / max(res["packets"], 1) < \
                            best[key]["cpu_ns"] / max(best[key]["packets"], 1):
                        best[key] = res
        self.results["stages"] = {f"{k[0]}|{k[1]}": v for k, v in best.items()}

    def section_workers(self):
        out = {}
        names = [n for n in (("imix",) if self.a.quick else ("imix", "corpus")) if n in self.inputs]
        rules = "strict" if self.have_corpus else None
        for name in names:
            for w in (1, 2):
                log(f"bench: workers: in-memory {name}, {w} worker(s)")
                out[f"inmem|{name}|{w}"] = self.inmemory(name, "full", rules, workers=w)
        self.results["workers"] = out

    def section_replay(self):
        out = {}
        rules = "strict" if self.have_corpus else None
        # Quick: the corpus only (Suricata's comparison and the alerts), one worker.
        names = [n for n in self.files if not self.a.quick or n == "corpus" or "corpus" not in self.files]
        for name in names:
            for w in ((1, 2) if name == "imix" and not self.a.quick else (1,)):
                log(f"bench: replay {self.files[name].name}, {w} worker(s)")
                out[f"{name}|{w}"] = self.replay(name, rules, w)
        self.results["replay"] = out

    def suricata(self, pcap, rules_file, tag):
        out_dir = self.work / f"suricata-{tag}"
        shutil.rmtree(out_dir, ignore_errors=True)
        out_dir.mkdir()
        empty = self.work / "empty-threshold.config"
        empty.write_text("")
        cmd = ["/usr/bin/time", "-f", "%e %M", "-o", str(out_dir / "time"), self.a.suricata,
               "-r", str(pcap), "-S", str(rules_file), "-l", str(out_dir), "-k", "none", "--runmode", "single",
               "-c", "/etc/suricata/suricata.yaml",
               "--set", f"vars.address-groups.HOME_NET={HOME_NET}",
               "--set", "vars.address-groups.EXTERNAL_NET=!$HOME_NET",
               "--set", f"threshold-file={empty}", "--set", f"classification-file={self.classification}"]
        with open(out_dir / "stdout", "w") as f:
            proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT)
            cpu_ticks = self.watch_worker_cpu(proc)
            rc = proc.wait()
        if rc != 0:
            raise RuntimeError(f"suricata {tag}: exit {rc}; see {out_dir}/stdout")
        text = (out_dir / "suricata.log").read_text(errors="replace")
        elapsed = float(re.search(r"time elapsed ([0-9.]+)s", text).group(1))
        packets = int(re.search(r"read \d+ files?, (\d+) packets", text).group(1))
        wall, rss_kb = (out_dir / "time").read_text().split()
        return {"packets": packets, "elapsed_s": elapsed, "process_s": float(wall), "rss_kb": int(rss_kb),
                "cpu_s": cpu_ticks / os.sysconf("SC_CLK_TCK") if cpu_ticks else None,
                "eve": str(out_dir / "eve.json")}

    @staticmethod
    def watch_worker_cpu(proc):
        """CPU time (clock ticks) of Suricata's packet thread (W#01 in
        --runmode single), sampled from /proc every 20 ms until it exits: the
        counterpart of Safeguard's cpu_ns. `proc` is /usr/bin/time; Suricata
        is its child."""
        ticks, pid = 0, None
        while proc.poll() is None:
            try:
                if pid is None:
                    kids = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
                    pid = kids[0] if kids else None
                if pid:
                    total = 0
                    for task in Path(f"/proc/{pid}/task").iterdir():
                        if (task / "comm").read_text().startswith("W#"):
                            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                            total += int(fields[11]) + int(fields[12])  # utime, stime
                    ticks = max(ticks, total)
            except (OSError, IndexError, ValueError):
                pass
            time.sleep(0.02)
        return ticks

    def section_suricata(self):
        if not self.a.suricata or not shutil.which(self.a.suricata):
            log("bench: suricata not found (scripts/setup.sh --with-suricata): its column stays empty")
            return
        version = subprocess.run([self.a.suricata, "-V"], capture_output=True, text=True).stdout.strip()
        out = {"version": version}
        if self.have_corpus:
            for name, pcap in self.files.items():
                if self.a.quick and name != "corpus":
                    continue
                log(f"bench: suricata {pcap.name}, ET plain-strict")
                out[f"{name}|strict"] = self.suricata(pcap, self.strict, f"{name}-strict")
            if not self.a.quick:
                et_all = self.work / "et-open-all.rules"
                with open(et_all, "w") as f:
                    for r in sorted(self.et_dir.glob("*.rules")):
                        f.write(r.read_text(errors="replace"))
                log(f"bench: suricata {self.files['corpus'].name}, full ET Open (all of it: Suricata runs every rule)")
                out["corpus|et"] = self.suricata(self.files["corpus"], et_all, "corpus-et")
        self.results["suricata"] = out

    def section_alerts(self):
        sur = self.results.get("suricata", {}).get("corpus|strict")
        rep = self.results.get("replay", {}).get("corpus|1")
        if not sur or not rep:
            return
        s_counts = collections.Counter()
        with open(sur["eve"], errors="replace") as f:
            for line in f:
                if '"event_type":"alert"' not in line:
                    continue
                a = json.loads(line)["alert"]
                s_counts[(a.get("gid", 1), a["signature_id"])] += 1
        g_counts = collections.Counter()
        for a in json.loads(Path(rep["report"]).read_text()).get("alerts", []):
            g_counts[(a.get("gid", 1), a["sid"])] += a["count"]
        differ = {f"{k[1]}": [s_counts.get(k, 0), g_counts.get(k, 0)]
                  for k in sorted(set(s_counts) | set(g_counts)) if s_counts.get(k, 0) != g_counts.get(k, 0)}
        self.results["alerts"] = {"signatures": len(set(s_counts) | set(g_counts)),
                                  "suricata": sum(s_counts.values()), "safeguard": sum(g_counts.values()),
                                  "differ": differ}

    def section_rules(self):
        if not self.have_corpus:
            return
        cfg = self.work / "rules-check.yaml"
        cfg.write_text("deployments:\n  - name: bench\n    prefixes: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]\n")
        out = {}
        for label, files in (("ET plain-strict", [self.strict]),
                             ("full supported ET Open", sorted(self.et_dir.glob("*.rules")))):
            times = self.work / "rules-check.time"
            cmd = ["/usr/bin/time", "-f", "%e %M", "-o", str(times), str(self.safeguard), "rules", "check", "--json",
                   "--config", str(cfg), "--classification", str(self.classification)] + [str(f) for f in files]
            res = subprocess.run(cmd, capture_output=True, text=True)
            j = json.loads(res.stdout)
            wall, rss_kb = times.read_text().split()
            out[label] = {"accepted": j["accepted"], "skipped": j["skipped"]["total"],
                          "compile_s": j["database"]["compile_seconds"], "db_bytes": j["database"]["bytes"],
                          "patterns": j["database"]["patterns"], "total_s": float(wall), "rss_kb": int(rss_kb)}
        self.results["rules"] = out

    def section_flood(self):
        counts = ["1000000"] if self.a.quick else ["1000000", "10000000"]
        log(f"bench: flood memory, {' and '.join(counts)} sources")
        res = subprocess.run(["bash", str(ROOT / "scripts" / "bench-flood-memory.sh"), str(self.a.build),
                              str(self.work)] + counts, capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"bench-flood-memory.sh failed: {res.stderr[-500:]}")
        out = {}
        for n in counts:
            rep = json.loads((self.work / f"report-{n}.json").read_text())
            m = re.search(rf"^\s*{n} sources: peak RSS (\d+) MiB", res.stdout, re.M)
            floods = [a for a in rep["attributions"] if a["type"] == "syn_flood"]
            out[n] = self.summarize(rep, {"rss_mib": int(m.group(1)) if m else None,
                                          "syn_flood": bool(floods),
                                          "distinct_sources": floods[0]["evidence"]["distinct_sources"] if floods else 0})
        self.results["flood"] = out

    def section_reload(self):
        if os.geteuid() != 0 or not shutil.which("tcpreplay") or not shutil.which("ip"):
            log("bench: reload under load needs root, ip and tcpreplay (a veth pair): left out")
            return
        pcap = self.reload_file or self.files["imix"]
        # The offered load must be one the pipeline takes without a reload
        # (on a busy machine it may not be): halve it until a run without
        # reload loses nothing, then reload at that load.
        pps, out = self.a.reload_pps, {"runs": []}
        while True:
            log(f"bench: reload under load: baseline at {pps} packets/s of {pcap.name}")
            base = self.reload_run(pcap, False, pps)
            out["runs"].append(base)
            if base["lost"] == 0 or pps <= 2500:
                break
            pps //= 2
        out["baseline"] = base
        if base["lost"]:
            log(f"bench: even {pps} packets/s lose packets without a reload: the machine is too busy to tell")
            out["inconclusive"] = True
        log(f"bench: reload under load: SIGHUP at {pps} packets/s")
        out["reload"] = self.reload_run(pcap, True, pps)
        out["runs"].append(out["reload"])
        self.results["reload"] = out
        if not base["lost"] and (out["reload"]["lost"] or out["reload"]["reloads"] != 1):
            self.failures.append("a rules reload under load lost packets or did not happen")

    def reload_run(self, pcap, hup, pps):
        a, b = "sgbench0", "sgbench1"
        subprocess.run(["ip", "link", "del", a], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "link", "add", a, "type", "veth", "peer", "name", b], check=True)
        try:
            for dev in (a, b):
                # No IPv6 autoconfiguration: only the capture crosses the pair.
                subprocess.run(["sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1"], check=True)
                subprocess.run(["ip", "link", "set", dev, "mtu", "9000", "up"], check=True)
            tag = "reload-" + ("hup" if hup else "base")
            cfg = self.work / f"{tag}.yaml"
            cfg.write_text(f"mode: tap\nworkers: 1\nports:\n  - name: wire0\n"
                           f"    device: \"net_af_packet0,iface={b},qpairs=1,framecnt=65536\"\n")
            report, err = self.work / f"{tag}.json", self.work / f"{tag}.err"
            cmd = [str(self.safeguard), "run", "--config", str(cfg), "--eal", self.eal(2, 1024),
                   "--protect", PROTECT, "--report", str(report)] + self.rule_args("strict" if self.have_corpus else None)
            with open(err, "w") as ef:
                proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=ef)
                if not self.wait_running(proc, err):
                    proc.kill()
                    raise RuntimeError(f"{tag}: safeguard did not start; see {err}")
                sender = subprocess.Popen(["tcpreplay", "-i", a, "--pps", str(pps), str(pcap)],
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                if hup:
                    time.sleep(1.0)
                    proc.send_signal(signal.SIGHUP)
                sent_out, _ = sender.communicate()
                time.sleep(1.0)
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=120)
            sent = int(re.search(r"Successful packets:\s+(\d+)", sent_out).group(1))
            rep = json.loads(report.read_text())
            received = rep["packets"]
            return {"pps": pps, "sent": sent, "received": received, "lost": max(0, sent - received),
                    "reloads": rep["runtime"]["rules"]["reloads"], "rx_missed": rep["runtime"]["rx_missed"]}
        finally:
            subprocess.run(["ip", "link", "del", a], stderr=subprocess.DEVNULL)

    # ---- output ---------------------------------------------------------

    def machine(self):
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = re.search(r"Model name:\s+(.*)", lscpu)
        mem = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return {"cpu": model.group(1) if model else platform.processor(), "cpus": os.cpu_count(),
                "memory_gib": round(int(mem.group(1)) / 2**20, 1) if mem else None,
                "kernel": platform.release(), "commit": commit + ("+changes" if dirty else ""),
                "load_before": os.getloadavg()[0]}

    def print_tables(self):
        m = self.results["machine"]
        p = print
        p(f"machine: {m['cpu']}, {m['cpus']} CPUs, {m['memory_gib']} GiB, Linux {m['kernel']}, no hugepages; "
          f"safeguard {m['commit']}; load {m['load_before']:.1f} -> {m.get('load_after', 0):.1f}")
        p(f"command: {self.results['command']}")
        sur = self.results.get("suricata", {})

        def sur_mpps(name, rules="strict", wall=False):
            """Suricata's rate on the same input: per core (its packet
            thread's CPU time) or wall (its own 'time elapsed')."""
            s = sur.get(f"{name}|{rules}")
            if not s:
                return None
            if wall:
                return s["packets"] / s["elapsed_s"] / 1e6
            return s["packets"] / s["cpu_s"] / 1e6 if s.get("cpu_s") else None

        def fmt_ratio(x):
            return f"{x:.2f}" if x is not None else "-"

        stages = self.results.get("stages")
        if stages:
            p("")
            p(f"In-memory replay (net_pcap infinite_rx), 1 worker, {self.a.seconds:g} s per run, "
              f"best of {self.a.repeat}; per worker core (CPU time of the worker thread)")
            p(f"{'input':<8} {'stage':<12} {'Mpps':>7} {'Gbit/s':>7} {'ns/pkt':>8} {'wall Mpps':>9} "
              f"{'vs null':>7} {'vs Suricata':>11}")
            for name in self.inputs:
                null = stages.get(f"{name}|null")
                for label, _, rules in self.stage_configs():
                    r = stages.get(f"{name}|{label}")
                    if not r:
                        continue
                    mpps = r["packets"] / r["cpu_ns"] * 1e3
                    gbps = r["bytes"] * 8 / r["cpu_ns"]
                    ns = r["cpu_ns"] / r["packets"]
                    wall = r["packets"] / r["wall_ns"] * 1e3 if r["wall_ns"] else 0
                    vs_null = mpps / (null["packets"] / null["cpu_ns"] * 1e3) if null else None
                    s = sur_mpps(name, "et" if rules == "et" else "strict")
                    vs_sur = mpps / s if s and rules else None
                    p(f"{name:<8} {label:<12} {mpps:>7.3f} {gbps:>7.2f} {ns:>8.0f} {wall:>9.3f} "
                      f"{fmt_ratio(vs_null):>7} {fmt_ratio(vs_sur):>11}")
        replay = self.results.get("replay")
        if replay:
            p("")
            p("Replay of the same files Suricata reads (safeguard replay: net_pcap from the file, software "
              "dispatch on the main lcore), ET plain-strict")
            p(f"{'file':<22} {'workers':>7} {'packets':>9} {'Mpps/core':>9} {'wall Mpps':>9} {'Suricata/core':>13} "
              f"{'Suricata wall':>13} {'ratio/core':>10} {'ratio wall':>10}")
            for key, r in replay.items():
                name, w = key.split("|")
                mpps = r["packets"] / r["cpu_ns"] * 1e3
                wall = r["packets"] / r["wall_ns"] * 1e3
                s, sw = sur_mpps(name), sur_mpps(name, wall=True)
                p(f"{self.files[name].name:<22} {w:>7} {r['packets']:>9} {mpps:>9.3f} {wall:>9.3f} "
                  f"{(f'{s:.3f}' if s else '-'):>13} {(f'{sw:.3f}' if sw else '-'):>13} "
                  f"{fmt_ratio(mpps / s if s else None):>10} {fmt_ratio(wall / sw if sw else None):>10}")
        if sur:
            p("")
            p(f"Suricata: {sur.get('version', '')}, --runmode single; per core = packets / CPU time of its "
              "packet thread (W#01), wall = packets / its 'time elapsed'")
            for key, s in sur.items():
                if key == "version":
                    continue
                per_core = f"{s['packets'] / s['cpu_s'] / 1e6:.3f}" if s.get("cpu_s") else "-"
                p(f"  {key:<16} {s['packets']:>9} packets: {per_core} Mpps per core, "
                  f"{s['packets'] / s['elapsed_s'] / 1e6:.3f} Mpps wall ({s['elapsed_s']:.2f} s); process "
                  f"{s['process_s']:.1f} s with rule loading, peak RSS {s['rss_kb'] // 1024} MiB")
        workers = self.results.get("workers")
        if workers:
            p("")
            p("Workers, in-memory, full pipeline with ET plain-strict (2 workers: software dispatch on the "
              "main lcore; this machine has 2 CPUs for main lcore, workers and reporter)")
            for name in ("imix", "corpus"):
                one, two = workers.get(f"inmem|{name}|1"), workers.get(f"inmem|{name}|2")
                if not one or not two:
                    continue
                for w, r in ((1, one), (2, two)):
                    p(f"  {name:<8} {w} worker(s): {r['packets'] / r['cpu_ns'] * 1e3:.3f} Mpps per worker core, "
                      f"{r['packets'] / r['wall_ns'] * 1e3:.3f} Mpps wall")
        alerts = self.results.get("alerts")
        if alerts:
            p("")
            p(f"Alerts on {self.files['corpus'].name} (ET plain-strict, HOME_NET {HOME_NET}): "
              f"{alerts['signatures']} signatures, Suricata {alerts['suricata']}, Safeguard {alerts['safeguard']}, "
              f"{len(alerts['differ'])} with different counts" +
              (": " + ", ".join(f"{k} ({v[0]} vs {v[1]})" for k, v in alerts["differ"].items()) if alerts["differ"] else ""))
        rules = self.results.get("rules")
        if rules:
            p("")
            p("Rules (safeguard rules check, HOME_NET as above)")
            for label, r in rules.items():
                p(f"  {label:<24} {r['accepted']:>5} accepted, {r['skipped']:>5} skipped, {r['patterns']} fast patterns, "
                  f"Hyperscan compile {r['compile_s']:.2f} s, parse + compile {r['total_s']:.2f} s, "
                  f"peak RSS {r['rss_kb'] // 1024} MiB, {r['db_bytes'] // 1024} KiB of databases")
        flood = self.results.get("flood")
        if flood:
            p("")
            p("Spoofed SYN flood, replay, 1 worker (scripts/bench-flood-memory.sh)")
            for n, r in flood.items():
                p(f"  {int(n):>10,} sources: peak RSS {r['rss_mib']} MiB, {r['packets'] / r['cpu_ns'] * 1e3:.3f} Mpps per "
                  f"worker core, syn_flood {'found' if r['syn_flood'] else 'MISSING'} (~{r['distinct_sources']:,} sources), "
                  f"{r['flows_evicted']:,} flows evicted")
        reload = self.results.get("reload")
        if reload:
            p("")
            p("Reload under load (tcpreplay into a veth pair, net_af_packet, 1 worker, ET plain-strict; SIGHUP 1 s "
              "into the run; the load is halved from --reload-pps until a run without reload loses nothing)")
            for r in reload["runs"]:
                p(f"  {r['pps']:>6} packets/s, {'SIGHUP' if r['reloads'] else 'no reload'}: sent {r['sent']}, "
                  f"received {r['received']}, lost {r['lost']}, reloads {r['reloads']}")
            if reload.get("inconclusive"):
                p("  inconclusive: the machine loses packets even without a reload")

    def run(self):
        self.results["command"] = " ".join(["scripts/bench.sh"] + sys.argv[1:])
        self.results["machine"] = self.machine()
        if not self.safeguard.exists():
            sys.exit(f"bench: no {self.safeguard}; build first (meson setup BUILD -Dtests=false && ninja -C BUILD)")
        self.make_inputs()
        sections = {"stages": self.section_stages, "replay": self.section_replay, "workers": self.section_workers,
                    "suricata": self.section_suricata, "alerts": self.section_alerts,
                    "rules": self.section_rules, "flood": self.section_flood, "reload": self.section_reload}
        chosen = self.a.only.split(",") if self.a.only else list(sections)
        for name in sections:
            if name not in chosen:
                continue
            t0 = time.monotonic()
            try:
                sections[name]()
            except (RuntimeError, subprocess.SubprocessError, OSError, ValueError, KeyError, AttributeError) as e:
                log(f"bench: {name} failed: {e}")
                self.failures.append(f"{name}: {e}")
            log(f"bench: {name} took {time.monotonic() - t0:.0f} s")
        self.results["machine"]["load_after"] = os.getloadavg()[0]
        (self.work / "results.json").write_text(json.dumps(self.results, indent=2))
        self.print_tables()
        print(f"\nall figures: {self.work / 'results.json'}")
        for f in self.failures:
            print(f"FAILED: {f}")
        return 1 if self.failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=str(ROOT / "build"), help="build directory (a release build)")
    ap.add_argument("--work", default="/tmp/safeguard-bench", help="inputs and outputs; inputs are reused")
    ap.add_argument("--corpus", default=str(ROOT / ".." / "shared" / "corpus"))
    ap.add_argument("--suricata", default=shutil.which("suricata") or "")
    ap.add_argument("--quick", action="store_true", help="about 2 minutes: shorter runs, no full ET Open")
    ap.add_argument("--seconds", type=float, help="length of one in-memory run (default 4, quick 1)")
    ap.add_argument("--repeat", type=int, help="in-memory rounds, best kept (default 2, quick 1)")
    ap.add_argument("--corpus-copies", type=int, help="copies of the corpus in the replayed file (default 8, quick 3)")
    ap.add_argument("--reload-pps", type=int, default=20000, help="offered load of the reload test")
    ap.add_argument("--only", help="comma-separated sections: " +
                    "stages,replay,workers,suricata,alerts,rules,flood,reload")
    args = ap.parse_args()
    args.seconds = args.seconds or (1.0 if args.quick else 4.0)
    args.repeat = args.repeat or (1 if args.quick else 2)
    args.corpus_copies = args.corpus_copies or (3 if args.quick else 8)
    return Bench(args).run()


if __name__ == "__main__":
    sys.exit(main())
