#!/usr/bin/env python3
"""Checks over finwatch output for the overload/fault/sanitizer e2e tests
(test_overload.sh, test_faults.sh, test_sanitizers.sh).

  i7_check.py final FILE FIELD
      Prints FIELD of the last summary with "final":true (exit 1 if none).
  i7_check.py peer FILE PEER NETNS FIELD
      Prints FIELD of PEER in network namespace NETNS in the last summary
      (0 when the peer is not listed). Other tests may run labs with the same
      addresses at the same time, so a peer is only ever looked up with its
      namespace.
  i7_check.py peermax FILE PEER NETNS FIELD
      The largest FIELD of PEER in NETNS over all summaries.
  i7_check.py accounting FILE
      The final summary accounts for every record: received == events and
      transitions == events + lost (trace mode). Prints the counters.
  i7_check.py trans FILE NETNS DADDR OLD NEW
      Prints how many trace transitions match.
  i7_check.py mono FILE START_NS END_NS
      ts_ns of consecutive summaries strictly increases, every summary lies
      within [START_NS, END_NS] (CLOCK_MONOTONIC taken by the caller), and
      "time" - ts_ns (the realtime-monotonic offset) is the same for all
      records (within 1 ms, the precision of "time").
  i7_check.py valgrind LOG
      Classifies a memcheck log: fails on invalid reads/writes/frees,
      overlapping copies, bad syscall buffers and definite leaks. Two known
      memcheck blind spots of BPF programs are tolerated and reported:
      "Syscall param bpf(...) uninitialised" raised inside libbpf (memcheck
      checks whole bpf_attr unions libbpf only partly fills, on purpose) and
      uninitialised values whose origin is the per-CPU map read buffer of
      fw_read_stats (memcheck marks value_size bytes written by
      BPF_MAP_LOOKUP_ELEM, not value_size * ncpus). Everything else fails.
  i7_check.py monotonic_now
      Prints CLOCK_MONOTONIC in ns.
Exit 0 when the check holds, 1 (with an explanation on stderr) when not.
"""
import json
import re
import sys
import time


def load(path, only=None):
    """JSON records of FILE; with ONLY, just those of that type (cheap to
    filter before parsing: trace output under a storm is hundreds of MB)."""
    out = []
    needle = '"type":"%s"' % only if only else None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if needle and needle not in line:
                continue
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def summaries(path):
    return [r for r in load(path, "summary") if r.get("type") == "summary"]


def final_summary(path):
    s = [r for r in summaries(path) if r.get("final") is True]
    return s[-1] if s else None


def cmd_final(path, field):
    s = final_summary(path)
    if s is None:
        sys.stderr.write("%s: no final summary\n" % path)
        return 1
    print(json.dumps(s.get(field)))
    return 0


def cmd_peer(path, peer, netns, field):
    s = summaries(path)
    if not s:
        sys.stderr.write("%s: no summary\n" % path)
        return 1
    for p in s[-1].get("peers", []):
        if p.get("peer") == peer and p.get("netns") == int(netns):
            print(json.dumps(p.get(field)))
            return 0
    print(0)
    return 0


def cmd_peermax(path, peer, netns, field):
    best = 0
    for r in summaries(path):
        for p in r.get("peers", []):
            if p.get("peer") == peer and p.get("netns") == int(netns):
                best = max(best, p.get(field) or 0)
    print(best)
    return 0


def cmd_accounting(path):
    s = final_summary(path)
    if s is None:
        sys.stderr.write("%s: no final summary\n" % path)
        return 1
    t, e, r, l = s["transitions"], s["events"], s["received"], s["lost"]
    print("transitions=%d events=%d received=%d lost=%d" % (t, e, r, l))
    bad = []
    if r != e:
        bad.append("received %d != events %d (%+d records unaccounted)" % (r, e, e - r))
    if t != e + l:
        bad.append("transitions %d != events %d + lost %d (%+d)" % (t, e, l, t - e - l))
    if bad:
        sys.stderr.write("; ".join(bad) + "\n")
        return 1
    return 0


def cmd_trans(path, netns, daddr, old, new):
    n = sum(1 for r in load(path, "transition") if r.get("type") == "transition" and r.get("netns") == int(netns)
            and r.get("daddr") == daddr and r.get("old") == old and r.get("new") == new)
    print(n)
    return 0


def cmd_mono(path, start_ns, end_ns):
    start_ns, end_ns = int(start_ns), int(end_ns)
    recs = load(path)
    s = [r for r in recs if r.get("type") == "summary"]
    if len(s) < 3:
        sys.stderr.write("%s: only %d summaries\n" % (path, len(s)))
        return 1
    for a, b in zip(s, s[1:]):
        if b["ts_ns"] <= a["ts_ns"]:
            sys.stderr.write("summary ts_ns went from %d to %d\n" % (a["ts_ns"], b["ts_ns"]))
            return 1
    for r in s:
        if not start_ns <= r["ts_ns"] <= end_ns:
            sys.stderr.write("summary ts_ns %d outside [%d, %d] (CLOCK_MONOTONIC)\n"
                             % (r["ts_ns"], start_ns, end_ns))
            return 1
    offs = []
    for r in recs:
        m = re.match(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z$", r.get("time", ""))
        if not m:
            sys.stderr.write("bad time %r\n" % r.get("time"))
            return 1
        y, mo, d, h, mi, sec, ms = (int(x) for x in m.groups())
        import calendar
        rt_ms = calendar.timegm((y, mo, d, h, mi, sec)) * 1000 + ms
        offs.append(rt_ms - r["ts_ns"] // 1000000)
    if max(offs) - min(offs) > 1:
        sys.stderr.write("time - ts_ns varies by %d ms across records\n" % (max(offs) - min(offs)))
        return 1
    print("%d summaries, ts_ns strictly increasing over %.3f s" % (len(s), (s[-1]["ts_ns"] - s[0]["ts_ns"]) / 1e9))
    return 0


VG_LINE = re.compile(r"^==\d+==( ?)(.*)$")


def vg_blocks(lines):
    """Memcheck reports as blocks: a header line then indented lines, blocks
    separated by an empty "==PID== " line."""
    blocks, cur = [], None
    for ln in lines:
        m = VG_LINE.match(ln)
        if not m:
            continue            # the program's own stderr
        text = m.group(2)
        if not text.strip():
            if cur:
                blocks.append(cur)
            cur = None
            continue
        if cur is None:
            cur = [text.strip()]
        else:
            cur.append(text.strip())
    if cur:
        blocks.append(cur)
    return blocks


def cmd_valgrind(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    tolerated, fatal = {}, []
    leak_ok = None

    def tolerate(k):
        tolerated[k] = tolerated.get(k, 0) + 1

    for b in vg_blocks(lines):
        head, body = b[0], "\n".join(b)
        if head.startswith("LEAK SUMMARY"):
            for ln in b:
                m = re.match(r"definitely lost: ([\d,]+) bytes", ln)
                if m:
                    n = int(m.group(1).replace(",", ""))
                    leak_ok = n == 0
                    if n:
                        fatal.append(body)
            continue
        if head.startswith("All heap blocks were freed"):
            leak_ok = True
            continue
        if "definitely lost in loss record" in head:
            fatal.append(body)
            continue
        if re.match(r"(Invalid (read|write|free)|Mismatched free|Source and destination overlap|"
                    r"Jump to the invalid address|Process terminating|Argument .* of function)", head) \
                or "unaddressable" in head:
            fatal.append(body)
            continue
        if head.startswith("Syscall param bpf(") and "uninitialised" in head and "libbpf" in body:
            tolerate("bpf_attr bytes libbpf leaves unset on purpose (memcheck's bpf wrapper checks them)")
            continue
        if head.startswith(("Conditional jump or move depends on uninitialised",
                            "Use of uninitialised value", "Syscall param")):
            origin = body.split("Uninitialised value was created by", 1)
            if len(origin) == 2 and re.search(r"\bat 0x[0-9A-Fa-f]+: fw_read_stats ", origin[1]):
                tolerate("per-CPU map values read by fw_read_stats (memcheck marks only one CPU's value as written)")
                continue
            fatal.append(body)
            continue
    for k, v in tolerated.items():
        print("tolerated: %d x %s" % (v, k))
    if leak_ok is None:
        fatal.append("no leak summary in the log (did valgrind finish?)")
    if fatal:
        sys.stderr.write("valgrind found %d real error(s):\n" % len(fatal))
        for f in fatal[:5]:
            sys.stderr.write("----\n%s\n" % f)
        return 1
    print("no invalid accesses, no definite leaks")
    return 0


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    cmd, args = argv[1], argv[2:]
    try:
        if cmd == "final":
            return cmd_final(*args)
        if cmd == "peer":
            return cmd_peer(*args)
        if cmd == "peermax":
            return cmd_peermax(*args)
        if cmd == "accounting":
            return cmd_accounting(*args)
        if cmd == "trans":
            return cmd_trans(*args)
        if cmd == "mono":
            return cmd_mono(*args)
        if cmd == "valgrind":
            return cmd_valgrind(*args)
        if cmd == "monotonic_now":
            print(time.clock_gettime_ns(time.CLOCK_MONOTONIC))
            return 0
    except TypeError:
        pass
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
