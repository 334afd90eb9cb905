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
      absent).
  fwcheck.py valid FILE
      Every line parses as one JSON object with type, ts_ns, time and host.
Exit 0 when the check holds, 1 (with an explanation on stderr) when not.
"""
import json
import sys


def load(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass  # a line still being written; `valid` catches real breakage
    return out


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


def cmd_seq(path, netns, daddr, dport, expected, conds):
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


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    cmd, path = argv[1], argv[2]
    if cmd == "seq":
        return cmd_seq(path, argv[3], argv[4], argv[5], argv[6], argv[7:])
    if cmd == "count":
        print(sum(1 for r in load(path) if r.get("type") == argv[3] and matches(r, argv[4:])))
        return 0
    if cmd == "last":
        hits = [r for r in load(path) if r.get("type") == argv[3] and matches(r, argv[5:])]
        if not hits:
            return 1
        print(json.dumps(hits[-1].get(argv[4])))
        return 0
    if cmd == "get":
        hits = [r for r in load(path) if r.get("type") == argv[3] and matches(r, argv[5:])]
        if not hits:
            return 1
        v = hits[-1]
        for part in argv[4].split("."):
            if isinstance(v, list) and part.isdigit() and int(part) < len(v):
                v = v[int(part)]
            elif isinstance(v, dict):
                v = v.get(part)
            else:
                v = None
        print(json.dumps(v))
        return 0
    if cmd == "peer":
        sums = [r for r in load(path) if r.get("type") == "summary"]
        if not sums:
            return 1
        for p in sums[-1].get("peers", []):
            if p.get("peer") == argv[3] and (len(argv) < 6 or p.get("netns") == int(argv[5])):
                print(json.dumps(p.get(argv[4])))
                return 0
        print(0)
        return 0
    if cmd == "valid":
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
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
