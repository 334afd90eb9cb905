#!/usr/bin/env python3
"""Assertions over finwatch's JSON Lines output, for the e2e tests.

  fwcheck.py seq FILE NETNS DADDR DPORT EXPECTED [key=value ...]
      The client socket to DADDR:DPORT in NETNS (transitions from
      `finwatch trace --json`) went through EXPECTED exactly
      ("CLOSE>SYN_SENT,SYN_SENT>ESTABLISHED,..."); each key=value must hold on
      the transition named by its prefix, e.g. "FIN_WAIT2>CLOSE.sk_err=104",
      "ESTABLISHED>FIN_WAIT1.comm=fwactive".
  fwcheck.py count FILE TYPE [key=value ...]
      Prints how many records of TYPE match all key=value pairs.
  fwcheck.py last FILE TYPE FIELD [key=value ...]
      Prints FIELD of the last matching record (JSON-encoded).
  fwcheck.py get FILE TYPE PATH [key=value ...]
      Prints the value at PATH (dotted: "workloads.0.workload.pod") of the
      last matching record (JSON-encoded); exit 1 if there is none.
  fwcheck.py peer FILE PEER FIELD [NETNS]
      Prints FIELD of PEER (in NETNS, when given) in the last summary (0 if
      absent; exit 1 if there is no summary).
  fwcheck.py valid FILE
      Every line parses as one JSON object with type, ts_ns, time and host.
  fwcheck.py final FILE FIELD
      Prints FIELD of the last summary with "final":true (exit 1 if none).
  fwcheck.py peermax FILE PEER NETNS FIELD
      The largest FIELD of PEER in NETNS over all summaries.
  fwcheck.py accounting FILE
      The final summary accounts for every record: received == events and
      transitions == events + lost (trace mode). Prints the counters.
  fwcheck.py trans FILE NETNS DADDR OLD NEW
      Prints how many trace transitions match.
  fwcheck.py mono FILE START_NS END_NS
      ts_ns of consecutive summaries strictly increases, every summary lies
      within [START_NS, END_NS] (CLOCK_MONOTONIC taken by the caller), and
      "time" - ts_ns (the realtime-monotonic offset) is the same for all
      records (within 1 ms, the precision of "time").
  fwcheck.py valgrind LOG
      Classifies a memcheck log: fails on invalid reads/writes/frees,
      overlapping copies, bad syscall buffers and definite leaks. Two known
      memcheck blind spots of BPF programs are tolerated and reported:
      "Syscall param bpf(...) uninitialised" raised inside libbpf (memcheck
      checks whole bpf_attr unions libbpf only partly fills, on purpose) and
      uninitialised values whose origin is the per-CPU map read buffer of
      fw_read_stats (memcheck marks value_size bytes written by
      BPF_MAP_LOOKUP_ELEM, not value_size * ncpus). Everything else fails.
  fwcheck.py monotonic_now
      Prints CLOCK_MONOTONIC in ns.
Other tests may run labs with the same addresses at the same time: look a
peer up with its namespace (NETNS, the inode finwatch reports as "netns").
Exit 0 when the check holds, 1 (with an explanation on stderr) when not.
"""
import calendar
import json
import re
import sys
import time


def load(path, only=None):
    """JSON records of FILE; with ONLY, just those of that type (cheap to
    filter before parsing: trace output under a storm is hundreds of MB).
    A line still being written is skipped; `valid` catches real breakage."""
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


def records(path, rtype, conds=()):
    return [r for r in load(path, rtype) if r.get("type") == rtype and matches(r, conds)]


def conv(v):
    if v in ("true", "false"):
        return v == "true"
    if v == "null":
        return None
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v


def matches(rec, conds):
    for c in conds:
        k, _, v = c.partition("=")
        if rec.get(k) != conv(v):
            return False
    return True


def cmd_seq(path, netns, daddr, dport, expected, *conds):
    recs = [r for r in load(path) if r.get("type") == "transition" and r.get("netns") == int(netns)
            and r.get("daddr") == daddr and r.get("dport") == int(dport)]
    cookies = {r["cookie"] for r in recs}
    if len(cookies) != 1:
        sys.stderr.write("expected one socket to %s:%s in netns %s, saw %d\n" % (daddr, dport, netns, len(cookies)))
        return 1
    seq = ["%s>%s" % (r["old"], r["new"]) for r in recs]
    want = expected.split(",")
    if seq != want:
        sys.stderr.write("sequence %s\n    want %s\n" % (",".join(seq), expected))
        return 1
    by_name = {}
    for r in recs:
        by_name["%s>%s" % (r["old"], r["new"])] = r
    for c in conds:
        name, _, kv = c.partition(".")
        k, _, v = kv.partition("=")
        r = by_name.get(name)
        if r is None or r.get(k) != conv(v):
            sys.stderr.write("%s: %s is %r, want %r\n" % (name, k, None if r is None else r.get(k), conv(v)))
            return 1
    return 0


def summaries(path):
    return records(path, "summary")


def final_summary(path):
    """The last summary with "final":true; None (and why, on stderr) if none."""
    s = [r for r in summaries(path) if r.get("final") is True]
    if not s:
        sys.stderr.write("%s: no final summary\n" % path)
        return None
    return s[-1]


def cmd_final(path, field):
    s = final_summary(path)
    if s is None:
        return 1
    print(json.dumps(s.get(field)))
    return 0


def cmd_peer(path, peer, field, netns=None):
    s = summaries(path)
    if not s:
        sys.stderr.write("%s: no summary\n" % path)
        return 1
    for p in s[-1].get("peers", []):
        if p.get("peer") == peer and (netns is None or p.get("netns") == int(netns)):
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
    print(len(records(path, "transition", ("netns=" + netns, "daddr=" + daddr, "old=" + old, "new=" + new))))
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


def cmd_count(path, rtype, *conds):
    print(len(records(path, rtype, conds)))
    return 0


# (`last` is `get` with a PATH of one field: record fields have no dots)
def cmd_get(path, rtype, dotted, *conds):
    hits = records(path, rtype, conds)
    if not hits:
        return 1
    v = hits[-1]
    for part in dotted.split("."):
        if isinstance(v, list) and part.isdigit() and int(part) < len(v):
            v = v[int(part)]
        elif isinstance(v, dict):
            v = v.get(part)
        else:
            v = None
    print(json.dumps(v))
    return 0


def cmd_valid(path):
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                r = json.loads(line)
            except ValueError as e:
                sys.stderr.write("line %d is not JSON: %s\n" % (n, e))
                return 1
            for k in ("type", "ts_ns", "time", "host"):
                if k not in r:
                    sys.stderr.write("line %d lacks %s\n" % (n, k))
                    return 1
    return 0


def cmd_monotonic_now():
    print(time.clock_gettime_ns(time.CLOCK_MONOTONIC))
    return 0


COMMANDS = {
    "seq": cmd_seq,
    "count": cmd_count,
    "last": cmd_get,
    "get": cmd_get,
    "peer": cmd_peer,
    "valid": cmd_valid,
    "final": cmd_final,
    "peermax": cmd_peermax,
    "accounting": cmd_accounting,
    "trans": cmd_trans,
    "mono": cmd_mono,
    "valgrind": cmd_valgrind,
    "monotonic_now": cmd_monotonic_now,
}


def main(argv):
    cmd = COMMANDS.get(argv[1]) if len(argv) > 1 else None
    if cmd is None:
        sys.stderr.write(__doc__)
        return 2
    try:
        return cmd(*argv[2:])
    except TypeError as e:
        # a wrong number of arguments (a TypeError raised deeper is a bug: shown)
        if "positional argument" not in str(e):
            raise
        sys.stderr.write(__doc__)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
