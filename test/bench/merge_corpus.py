#!/usr/bin/python3
"""The benchmark's "real traffic" input: every Ethernet capture of the corpus
in one classic pcap, optionally repeated.

    test/bench/merge_corpus.py CORPUS_DIR OUT.pcap [--copies K] [--max-frame BYTES]

Captures (CORPUS_DIR/pcaps/*/*, pcap or pcapng) are converted with editcap
(Wireshark's tools) and concatenated in path order. Their clocks are made to
follow each other: each capture starts two hours after the previous one ended
(more than any flow timeout, so flows never span two captures), and a pause
longer than two hours inside a capture is shortened to two hours (some
captures span years). Copy k of the whole sequence follows copy k-1 the same
way, and in copy k the last byte of every outer IPv4 and IPv6 address is
increased by k (mod 256; the IPv4 header checksum is updated, TCP/UDP
checksums are not: Suricata runs with -k none): the same traffic again, but
new hosts and flows, even for a reader that loops over the file without
regard to time (net_pcap's infinite_rx). Prefixes of /24 and shorter keep
their members.

Frames longer than --max-frame (default 2048, one mbuf: net_pcap's
infinite_rx replays only the first segment of a chained mbuf) are left out,
and so are captures of another link type; both are counted on stderr.
Deterministic: the same corpus gives the same bytes.
"""

import argparse
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

GAP_US = 2 * 3600 * 1_000_000
T0_US = 1_600_000_000 * 1_000_000
LINKTYPE_ETHERNET = 1


def read_pcap(path):
    """(linktype, [(ts_us, orig_len, bytes)]) of a classic pcap (us or ns)."""
    data = path.read_bytes()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        bo = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        bo = ">"
    else:
        raise ValueError(f"{path}: not a classic pcap")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack_from(bo + "I", data, 20)[0] & 0xFFFF
    records, off = [], 24
    while off + 16 <= len(data):
        sec, frac, caplen, origlen = struct.unpack_from(bo + "IIII", data, off)
        off += 16
        if off + caplen > len(data):
            break  # a cut last record ends the capture, as libpcap reads it
        ts = sec * 1_000_000 + (frac // 1000 if nano else frac)
        records.append((ts, origlen, data[off:off + caplen]))
        off += caplen
    return linktype, records


def shift_hosts(frame, k):
    """The frame with the last byte of its outer IP addresses increased by k."""
    if k == 0:
        return frame
    off, ethertype = 12, int.from_bytes(frame[12:14], "big")
    while ethertype in (0x8100, 0x88A8, 0x9100) and off + 6 <= len(frame):
        off += 4
        ethertype = int.from_bytes(frame[off:off + 2], "big")
    ip = off + 2
    f = bytearray(frame)
    if ethertype == 0x0800 and ip + 20 <= len(f) and f[ip] >> 4 == 4:
        for last in (ip + 15, ip + 19):
            f[last] = (f[last] + k) & 0xFF
        ihl = (f[ip] & 0x0F) * 4
        if ip + ihl <= len(f):
            f[ip + 10:ip + 12] = b"\0\0"
            total = sum(struct.unpack(f"!{ihl // 2}H", bytes(f[ip:ip + ihl])))
            total = (total >> 16) + (total & 0xFFFF)
            total += total >> 16
            f[ip + 10:ip + 12] = struct.pack("!H", ~total & 0xFFFF)
    elif ethertype == 0x86DD and ip + 40 <= len(f):
        for last in (ip + 23, ip + 39):
            f[last] = (f[last] + k) & 0xFF
    return bytes(f)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--copies", type=int, default=1)
    ap.add_argument("--max-frame", type=int, default=2048)
    args = ap.parse_args()
    captures = sorted(p for p in (args.corpus / "pcaps").glob("*/*") if p.is_file())
    if not captures:
        sys.exit(f"merge_corpus: no captures under {args.corpus}/pcaps")

    # One timeline: (ts relative to the copy's start, origlen, frame).
    timeline, t, skipped_files, skipped_frames = [], 0, [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, path in enumerate(captures):
            classic = Path(tmp) / f"{i}.pcap"
            subprocess.run(["editcap", "-F", "pcap", str(path), str(classic)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            linktype, records = read_pcap(classic)
            if linktype != LINKTYPE_ETHERNET:
                skipped_files.append(f"{path.relative_to(args.corpus)} (link type {linktype})")
                continue
            prev = None
            for ts, origlen, frame in records:
                if len(frame) > args.max_frame:
                    skipped_frames += 1
                    continue
                delta = 0 if prev is None else min(ts - prev, GAP_US)
                prev = ts
                t += delta  # a capture's own disorder is kept
                timeline.append((t, origlen, frame))
            t += GAP_US
    span = t

    with open(args.out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET))
        for k in range(args.copies):
            base = T0_US + k * span
            for rel, origlen, frame in timeline:
                ts = base + rel
                f.write(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(frame), origlen))
                f.write(shift_hosts(frame, k % 256))
    print(f"merge_corpus: {len(captures) - len(skipped_files)} captures, {len(timeline)} frames x {args.copies} "
          f"-> {args.out}; left out: {skipped_frames} frames over {args.max_frame} bytes"
          + (f", {len(skipped_files)} captures of another link type: {', '.join(skipped_files)}"
             if skipped_files else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
