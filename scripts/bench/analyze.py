#!/usr/bin/env python3
"""Tables for scripts/bench.sh from its raw data.

    analyze.py RUN_DIR            markdown summary of a whole run (stdout)
    analyze.py --one RUN_DIR/runs/rN-CONFIG   one line about one run

Per run (RUN_DIR/runs/rN-CONFIG/): meta.env, loadgen.json, perf.csv,
{before,after,settled}.{ids,progs.json,cpu,t[,fwstats.json]}, tracer.out/err,
exitwait.txt. The window of every rate is before -> after (the churn, wrapped
by perf stat); exits are read after `settled`.
"""
import json
import os
import re
import statistics
import sys

FW_TP_PROGS = ("fw_set_state", "fw_set_state_backup")


def read_env(path):
    env = {}
    try:
        with open(path) as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    env[k] = v
    except OSError:
        pass
    return env


def read(path, default=""):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return default


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def perf_counts(path):
    """perf stat -x, lines in event order: FW2 entries, FW2 exits, all TCP."""
    vals = []
    for line in read(path).splitlines():
        parts = line.split(",")
        if len(parts) > 2 and "inet_sock_set_state" in parts[2]:
            vals.append(int(parts[0]) if parts[0].isdigit() else None)
    while len(vals) < 3:
        vals.append(None)
    return vals[:3]


def snap(d, name):
    ids = {}
    for line in read(os.path.join(d, name + ".ids")).splitlines():
        role, pid = line.split()
        ids[int(pid)] = role
    progs = {}
    for p in load_json(os.path.join(d, name + ".progs.json")) or []:
        if p.get("id") in ids:
            progs[p["id"]] = {
                "role": ids[p["id"]], "name": p.get("name", "?"),
                "run_time_ns": p.get("run_time_ns", 0), "run_cnt": p.get("run_cnt", 0),
                "recursion_misses": p.get("recursion_misses", 0),
            }
    cpu = read(os.path.join(d, name + ".cpu")).split()
    ticks = int(cpu[0]) + int(cpu[1]) if len(cpu) >= 2 and cpu[0].isdigit() else None
    rss = None
    m = re.search(r"VmRSS:\s+(\d+)", read(os.path.join(d, name + ".cpu")))
    if m:
        rss = int(m.group(1))
    t = read(os.path.join(d, name + ".t")).strip()
    fwstats = None
    fs = load_json(os.path.join(d, name + ".fwstats.json"))
    if fs:
        fwstats = {}
        for e in fs:
            k = e.get("key")
            if isinstance(k, list):     # raw hex bytes
                k = int(k[0], 16)
            tot = 0
            for v in e.get("values", []):
                val = v.get("value")
                if isinstance(val, list):
                    val = int.from_bytes(bytes(int(x, 16) for x in val), "little")
                tot += int(val)
            fwstats[int(k)] = tot
    return {"progs": progs, "ticks": ticks, "rss_kb": rss,
            "t_us": int(t) if t.isdigit() else None, "fwstats": fwstats}


def delta_progs(a, b, role):
    out = {}
    for pid, p in b["progs"].items():
        if p["role"] != role:
            continue
        q = a["progs"].get(pid, {"run_time_ns": 0, "run_cnt": 0, "recursion_misses": 0})
        out[p["name"]] = {k: p[k] - q[k] for k in ("run_time_ns", "run_cnt", "recursion_misses")}
    return out


def parse_finwatch_text(d, inum):
    out = read(os.path.join(d, "tracer.out"))
    err = read(os.path.join(d, "tracer.err"))
    r = {}
    m = None
    for m in re.finditer(r"finwatch: (\d+) events, (\d+) received, (\d+) lost \(ring buffer full\), "
                         r"(\d+)\+(\d+) runs skipped", err):
        pass
    if m:
        r.update(events=int(m.group(1)), received=int(m.group(2)), lost=int(m.group(3)),
                 misses_main=int(m.group(4)), misses_backup=int(m.group(5)))
    # the final table: after the last "--- FIN_WAIT_2 now" header
    last = out.rfind("--- FIN_WAIT_2 now")
    block = out[last:] if last >= 0 else ""
    row = re.search(r"^127\.0\.0\.1\s+%d\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(\d+)\s*$" % inum,
                    block, re.M)
    hist = None
    for hist in re.finditer(r"^FIN_WAIT_2 lifetime, peer 127\.0\.0\.1 netns %d \(exits: peer_fin (\d+), "
                            r"rst (\d+), timeout (\d+), killed (\d+), other (\d+)\)" % inum, out, re.M):
        pass
    exits = sum(int(x) for x in hist.groups()) if hist else 0
    if hist:
        r["outcomes"] = dict(zip(("peer_fin", "rst", "timeout", "killed", "other"),
                                 (int(x) for x in hist.groups())))
    if row:
        r.update(count=int(row.group(1)), entered=int(row.group(5)), exited=int(row.group(6)),
                 entered_from="table")
    else:   # nothing left in FIN_WAIT_2: the table hides the peer
        r.update(count=0, entered=exits, exited=exits, entered_from="exits (peer not in final table)")
    ew = read(os.path.join(d, "exitwait.txt")).split()
    if len(ew) >= 2:
        r["exit_wait_ms"] = int(ew[-2])
    return r


def analyze_run(d):
    meta = read_env(os.path.join(d, "meta.env"))
    if meta.get("failed") or "cfg" not in meta:
        return {"dir": d, "failed": meta.get("failed", "no data")}
    cfg = meta["cfg"]
    inum = int(meta.get("netns_inum", 0))
    res = {"dir": d, "cfg": cfg, "round": int(meta.get("round", 0))}
    lg = load_json(os.path.join(d, "loadgen.json")) or {}
    res.update(conns=lg.get("connections"), rate=lg.get("rate"), lg_seconds=lg.get("seconds"),
               lg_errors=lg.get("errors"), loadgen_rc=meta.get("loadgen_rc"))
    res["k_fw2_in"], res["k_fw2_out"], res["k_tcp"] = perf_counts(os.path.join(d, "perf.csv"))
    a, b, s = snap(d, "before"), snap(d, "after"), snap(d, "settled")
    win = (b["t_us"] - a["t_us"]) / 1e6 if a["t_us"] and b["t_us"] else None
    res["window_s"] = win
    emp = delta_progs(a, b, "empty")
    e = next(iter(emp.values()), None)
    if e and e["run_cnt"]:
        res["transitions"] = e["run_cnt"] + e["recursion_misses"]
        res["floor_ns"] = e["run_time_ns"] / e["run_cnt"]
        res["floor_misses"] = e["recursion_misses"]
        res["transitions_per_s"] = res["transitions"] / win if win else None
        # Hits perf counted that no BPF program on the tracepoint was even
        # offered (neither run nor counted as a recursion miss): the empty
        # program sees as few as every other one. Not a finwatch loss.
        if res.get("k_tcp") is not None:
            res["undelivered"] = res["k_tcp"] - res["transitions"]
    tr = delta_progs(a, b, "tracer")
    res["tracer_progs"] = tr
    if cfg != "baseline" and res.get("transitions"):
        n = res["transitions"]
        tp = sum(v["run_time_ns"] for k, v in tr.items() if k != "fw_scan")
        allns = sum(v["run_time_ns"] for v in tr.values())
        res["bpf_ns_per_tr"] = tp / n
        res["bpf_all_ns_per_tr"] = allns / n
        res["bpf_x_floor"] = res["bpf_ns_per_tr"] / res["floor_ns"] if res.get("floor_ns") else None
        res["bpf_all_x_floor"] = res["bpf_all_ns_per_tr"] / res["floor_ns"] if res.get("floor_ns") else None
        res["bpf_core_pct"] = allns / 1e9 / win * 100 if win else None
        res["bpf_misses"] = {k: v["recursion_misses"] for k, v in tr.items() if v["recursion_misses"]}
    if a["ticks"] is not None and b["ticks"] is not None and win:
        clk = int(meta.get("clk_tck", 100))
        res["cpu_pct"] = (b["ticks"] - a["ticks"]) / clk / win * 100
        # Through the settled snapshot (watch: the walk that reported the
        # churn's last exit), per second of churn: the window alone counts
        # a walk (~100 ms, 8 s apart at saturation) or not.
        if s["ticks"] is not None:
            res["cpu_pct_settled"] = (s["ticks"] - a["ticks"]) / clk / win * 100
        res["rss_kb"] = s["rss_kb"] or b["rss_kb"]
    # correctness, per tool
    if cfg in ("watch", "single", "watchport"):
        fw = parse_finwatch_text(d, inum)
        res["fw"] = fw
        res["entries_ok"] = fw.get("entered") == res["k_fw2_in"]
        res["exits_ok"] = fw.get("exited") == res["k_fw2_out"]
        res["lost"] = fw.get("lost")
        res["misses"] = (fw.get("misses_main"), fw.get("misses_backup"))
        fa, fb = a["fwstats"], s["fwstats"]
        if cfg == "watchport" and fa is not None and fb is not None and res["k_fw2_in"] is not None:
            # Only the churn passes --rport: every FIN_WAIT_2 entry and exit
            # is one record. Submitted + ring-buffer drops vs the kernel.
            sub = fb.get(0, 0) - fa.get(0, 0)
            drops = fb.get(1, 0) - fa.get(1, 0)
            res["kernel_side_missing"] = res["k_fw2_in"] + res["k_fw2_out"] - sub - drops
            fw["submitted"], fw["drops_window"] = sub, drops
    elif cfg == "trace":
        fa, fb = a["fwstats"], b["fwstats"]
        if fa is not None and fb is not None:
            d_ = {k: fb.get(k, 0) - fa.get(k, 0) for k in fb}
            # trace mode counts no SEEN (index 3): every transition that
            # passed is a record or a drop.
            seen = d_.get(3) or (d_.get(0, 0) + d_.get(1, 0))
            d_[3] = seen
            res["trace"] = {"events": d_.get(0), "lost": d_.get(1), "storage_failures": d_.get(2),
                            "seen": seen}
            res["lost"] = d_.get(1)
            # Host-wide, over the same snapshots as the empty program's
            # run_cnt (+ its own recursion misses): every transition.
            if res.get("transitions") is not None and d_.get(3) is not None:
                res["seen_minus_kernel"] = d_[3] - res["transitions"]
        m = re.search(r"(\d+)\+(\d+) runs skipped", read(os.path.join(d, "tracer.err")))
        if m:
            res["misses"] = (int(m.group(1)), int(m.group(2)))
    # tcpstates and bpftrace attach classic-tracepoint BPF programs, and the
    # kernel counts the tracepoint's perf events only when those programs
    # run and return non-zero (perf_trace_run_bpf_submit): perf sees nothing
    # while tcpstates (returns 0) is attached, and misses what bpftrace's
    # program misses (recursion). There the truth is the connection count:
    # one client FIN_WAIT_2 entry and exit each, equal to perf's counts in
    # every other run.
    if cfg in ("tcpstates", "bpftrace"):
        res["perf_coupled"] = True
        res["perf_fw2_in"], res["perf_fw2_out"] = res["k_fw2_in"], res["k_fw2_out"]
        res["k_fw2_in"] = res["k_fw2_out"] = res.get("conns")
    if cfg == "bpftrace":
        out = read(os.path.join(d, "tracer.out"))
        port = meta.get("port", "47999")
        m1 = re.search(r"@fw2_entered\[%s\]: (\d+)" % port, out)
        m2 = re.search(r"@fw2_exited\[%s\]: (\d+)" % port, out)
        res["bt"] = {"entered": int(m1.group(1)) if m1 else None, "exited": int(m2.group(1)) if m2 else None}
        res["entries_ok"] = res["bt"]["entered"] == res["k_fw2_in"]
        res["exits_ok"] = res["bt"]["exited"] == res["k_fw2_out"]
    elif cfg == "tcpstates":
        lost = sum(int(x) for x in re.findall(r"lost (\d+) events", read(os.path.join(d, "tracer.err"))))
        res["lost"] = lost
    return res


def fmt(v, spec="{:.0f}", none="-"):
    return none if v is None else spec.format(v)


def one_line(r):
    if r.get("failed"):
        return "%s: FAILED (%s)" % (r["dir"], r["failed"])
    s = "%-9s r%d: %s conn/s, FW2 kernel in/out %s/%s" % (
        r["cfg"], r["round"], fmt(r.get("rate")), r.get("k_fw2_in"), r.get("k_fw2_out"))
    if r.get("floor_ns"):
        s += ", floor %.0f ns" % r["floor_ns"]
    if r.get("bpf_ns_per_tr") is not None:
        s += ", BPF %.0f ns/transition (%.1fx floor)" % (r["bpf_ns_per_tr"], r["bpf_x_floor"] or 0)
    if r.get("cpu_pct") is not None:
        s += ", user CPU %.1f%%" % r["cpu_pct"]
        if r.get("cpu_pct_settled") is not None:
            s += " (%.1f%% to last exit)" % r["cpu_pct_settled"]
    if "fw" in r:
        fw = r["fw"]
        s += ", finwatch in/out %s/%s lost %s skipped %s" % (fw.get("entered"), fw.get("exited"),
                                                             fw.get("lost"), r.get("misses"))
    if "trace" in r:
        s += ", trace seen-kernel %s lost %s" % (r.get("seen_minus_kernel"), r.get("lost"))
    if "bt" in r:
        s += ", bpftrace in/out %s/%s" % (r["bt"]["entered"], r["bt"]["exited"])
    if r["cfg"] == "tcpstates":
        s += ", lost %s" % r.get("lost")
    return s


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


CFG_DESC = {
    "baseline": "baseline (no tracer)",
    "watch": "finwatch (watch)",
    "trace": "finwatch trace --json >/dev/null",
    "single": "finwatch --single-program",
    "watchport": "finwatch --rport PORT (diagnostic)",
    "tcpstates": "libbpf-tools tcpstates >/dev/null",
    "bpftrace": "bpftrace fw2hist.bt",
}


# Two-sided 95% Student t quantiles by degrees of freedom (1..30).
T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
       2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
       2.052, 2.048, 2.045, 2.042]


def mean_ci(vals):
    """Mean and half-width of its 95% confidence interval (None with < 2 values)."""
    vals = [v for v in vals if v is not None]
    if not vals:
        return None, None
    m = statistics.mean(vals)
    if len(vals) < 2:
        return m, None
    t = T95[min(len(vals) - 1, len(T95)) - 1]
    return m, t * statistics.stdev(vals) / len(vals) ** 0.5


def stat_busy(path):
    """Busy jiffies of the /proc/stat "cpu" line: user nice system irq softirq
    (guest time is inside user; idle, iowait and steal are not ours)."""
    f = read(path).split()
    if len(f) < 8 or f[0] != "cpu":
        return None
    v = [int(x) for x in f[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6]


def analyze_rate(d):
    env = read_env(os.path.join(d, "meta.env"))
    r = {"dir": d, "cfg": env.get("cfg"), "round": int(env.get("round", "0") or 0)}
    if env.get("failed"):
        r["failed"] = env["failed"]
        return r
    lg = load_json(os.path.join(d, "loadgen.json")) or {}
    hz = int(env.get("clk_tck", "100") or 100)
    a, b = stat_busy(os.path.join(d, "stat.before")), stat_busy(os.path.join(d, "stat.after"))
    conns = lg.get("connections")
    if a is None or b is None or not conns:
        r["failed"] = "no data"
        return r
    r["conns"] = conns
    r["rate"] = lg.get("rate")
    r["target"] = int(env.get("rate", "0") or 0)
    r["cpu_us_per_conn"] = (b - a) / hz * 1e6 / conns
    ca, cb = read(os.path.join(d, "cg_ns.before")).strip(), read(os.path.join(d, "cg_ns.after")).strip()
    if ca.isdigit() and cb.isdigit():
        r["cg_us_per_conn"] = (int(cb) - int(ca)) / 1e3 / conns
    ta, tb = read(os.path.join(d, "tracer_cpu.before")).split(), read(os.path.join(d, "tracer_cpu.after")).split()
    if len(ta) >= 2 and len(tb) >= 2:
        r["tracer_us_per_conn"] = (int(tb[0]) + int(tb[1]) - int(ta[0]) - int(ta[1])) / hz * 1e6 / conns
    return r


rate_runs = []      # the fixed-rate runs rate_summary analyzed, for the targets


def rate_summary(run, p):
    rdir = os.path.join(run, "rate")
    if not os.path.isdir(rdir):
        return None
    runs = [analyze_rate(os.path.join(rdir, x)) for x in sorted(os.listdir(rdir))]
    ok = [r for r in runs if not r.get("failed")]
    rate_runs[:] = ok
    order = [c for c in CFG_DESC if any(r["cfg"] == c for r in ok)]
    target = max((r["target"] for r in ok), default=0)
    p("### Fixed rate: CPU per connection (%d connections/s, bpf_stats off)" % target)
    p()
    p("| config | rounds | conn/s achieved (min) | host CPU µs/conn, mean ± 95% CI | extra vs baseline, µs "
      "(paired by round) | loadgen + tracer CPU µs/conn, mean ± 95% CI | extra vs baseline, µs (paired by "
      "round) | of which the tracer process, µs |")
    p("|---|---|---|---|---|---|---|---|")
    extra = {}
    for c in order:
        rs = [r for r in ok if r["cfg"] == c]
        cells = []
        for key in ("cpu_us_per_conn", "cg_us_per_conn"):
            base = {r["round"]: r[key] for r in ok if r["cfg"] == "baseline" and r.get(key) is not None}
            m, h = mean_ci([r.get(key) for r in rs])
            diffs = [r[key] - base[r["round"]] for r in rs if r["round"] in base and r.get(key) is not None]
            em, eh = mean_ci(diffs) if c != "baseline" else (None, None)
            extra[(c, key)] = (em, eh)
            cells += ["%s ± %s" % (fmt(m, "{:.2f}"), fmt(h, "{:.2f}")),
                      "%s ± %s" % (fmt(em, "{:.2f}"), fmt(eh, "{:.2f}")) if c != "baseline" else "-"]
        tm, _ = mean_ci([r.get("tracer_us_per_conn") for r in rs])
        p("| %s | %d | %s | %s | %s | %s | %s | %s |" % (
            CFG_DESC[c], len(rs), fmt(min(r["rate"] or 0 for r in rs)), *cells, fmt(tm, "{:.2f}")))
    p()
    p("Host CPU: busy time of /proc/stat's cpu line (user, nice, system, irq, softirq; not idle, "
      "iowait or steal; 1/USER_HZ ticks) over the loadgen run, every process on the machine included, "
      "divided by the connections made. loadgen + tracer: the CPU time (ns) of an accounting cgroup "
      "holding loadgen, its workers and the tracer, which includes the softirq work that runs in their "
      "context (on loopback most of it; this kernel has no separate IRQ time accounting), not other "
      "processes' load. Rounds alternate the configs; each extra is paired with the same round's "
      "baseline. A CI wider than a difference means this run cannot tell the two apart.")
    p()
    return extra


def summary(run):
    env = read_env(os.path.join(run, "machine.env"))
    rdir = os.path.join(run, "runs")
    runs = [analyze_run(os.path.join(rdir, x)) for x in sorted(os.listdir(rdir))] if os.path.isdir(rdir) else []
    ok = [r for r in runs if not r.get("failed")]
    order = [c for c in CFG_DESC if any(r["cfg"] == c for r in ok)]
    p = print
    p("## finwatch benchmark, %s" % env.get("date", "?"))
    p()
    p("Machine: `%s`, %s CPUs, %s, %.1f GiB RAM; load average at start %s, at end %s." % (
        env.get("uname_r"), env.get("nproc"), env.get("cpu_model"),
        int(env.get("mem_total_kb", "0")) / 2**20, env.get("loadavg_at_start", "?").split(" ")[0],
        env.get("loadavg_at_end", "?").split(" ")[0]))
    lines = read(os.path.join(run, "machine.env")).splitlines()
    for key in ("quick=", "workers=", "finwatch=", "perf=", "bpftrace="):
        line = next((l for l in lines if l.startswith(key)), None)
        if line:
            p("`%s`  " % line)
    p()
    base = med([r.get("rate") for r in ok if r["cfg"] == "baseline"])
    p("### Churn: rate, kernel cost, user-space cost (medians over rounds)")
    p()
    p("| config | runs | conn/s | vs baseline | transitions/s | floor ns/tr | BPF ns/tr (tracepoint progs) | x floor | BPF ns/tr incl. iter | BPF % of a core | user CPU % of a core | user CPU to last exit | RSS MiB |")
    p("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for c in order:
        rs = [r for r in ok if r["cfg"] == c]
        rate = med([r.get("rate") for r in rs])
        rss = med([r.get("rss_kb") for r in rs])
        p("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            CFG_DESC[c], len(rs), fmt(rate), fmt(rate / base if rate and base else None, "{:.2f}"),
            fmt(med([r.get("transitions_per_s") for r in rs])),
            fmt(med([r.get("floor_ns") for r in rs]), "{:.0f}"),
            fmt(med([r.get("bpf_ns_per_tr") for r in rs]), "{:.0f}"),
            fmt(med([r.get("bpf_x_floor") for r in rs]), "{:.2f}"),
            fmt(med([r.get("bpf_all_ns_per_tr") for r in rs]), "{:.0f}"),
            fmt(med([r.get("bpf_core_pct") for r in rs]), "{:.1f}"),
            fmt(med([r.get("cpu_pct") for r in rs]), "{:.1f}"),
            fmt(med([r.get("cpu_pct_settled") for r in rs]), "{:.1f}"),
            fmt(rss / 1024 if rss else None, "{:.1f}")))
    p()
    p("ns/tr: BPF run_time_ns per inet_sock_set_state hit (the empty program's run_cnt + recursion misses "
      "in the same window); floor: the empty tp_btf program's run_time_ns/run_cnt; x floor: the tracer's "
      "programs together / floor (target for finwatch: <= 2). \"incl. iter\" adds finwatch's iter/tcp "
      "scans. User CPU: utime+stime of the tracer process over the churn window; \"to last exit\": "
      "the same from the churn's start until finwatch reported its last exit (the walks that "
      "confirm the churn's handoffs included; others: 1 s after the churn), per second of churn.")
    p()
    p("### Zero loss: FIN_WAIT_2 entries/exits vs the kernel (perf, dport = churn port)")
    p()
    p("| config | round | connections | kernel in | kernel out | tool in | tool out | ring-buffer lost | recursion misses (main+backup) | exits reported after | result |")
    p("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in sorted(ok, key=lambda r: (order.index(r["cfg"]), r["round"])):
        c = r["cfg"]
        if c == "baseline":
            continue
        tin = tout = lost = miss = ew = "-"
        verdict = ""
        if "fw" in r:
            fw = r["fw"]
            tin, tout, lost = fw.get("entered"), fw.get("exited"), fw.get("lost")
            miss = "%s+%s" % (fw.get("misses_main"), fw.get("misses_backup"))
            ew = fmt(fw.get("exit_wait_ms"), "{:.0f} ms")
            pend = (r["k_fw2_out"] or 0) - (fw.get("exited") or 0)
            verdict = "entries %s; exits %s" % (
                "exact" if r["entries_ok"] else "MISMATCH (%+d)" % ((fw.get("entered") or 0) - (r["k_fw2_in"] or 0)),
                "exact" if r["exits_ok"] else "%d not yet reported (still followed)" % pend
                if pend > 0 and fw.get("count", 0) >= pend else "MISMATCH (%+d)" % -pend)
            if fw.get("entered_from") != "table":
                verdict += " (in = out: peer not in final table)"
            if lost:
                verdict += "; LOST %d" % lost
            und = r.get("undelivered")
            short = (r["k_fw2_in"] or 0) - (fw.get("entered") or 0)
            if und is not None and short:
                verdict += "; perf counted %d TCP transitions no BPF program was offered " \
                           "(the empty one included): %s" % (
                               und, "all of the shortfall (%d entries + %d exits)" % (short, short)
                               if und == 2 * short else "shortfall beyond them: %d" % (short - und // 2))
            if "kernel_side_missing" in r:
                verdict += "; records submitted %d + dropped %d vs kernel in+out: %d never submitted " \
                           "by either program copy" % (
                               fw["submitted"], fw["drops_window"], r["kernel_side_missing"])
        elif "trace" in r:
            t = r["trace"]
            tin, lost = "seen %s" % t.get("seen"), t.get("lost")
            tout = "all %s" % r.get("transitions")
            miss = "%s+%s" % r["misses"] if r.get("misses") else "(bpftool) " + str(r.get("bpf_misses") or 0)
            verdict = "every transition (host-wide): seen - all = %s; submitted %s, %s" % (
                r.get("seen_minus_kernel"), t.get("events"),
                "LOST %d (%.1f%%)" % (lost, 100.0 * lost / max(t.get("seen") or 1, 1)) if lost else "none lost")
        elif "bt" in r:
            tin, tout = r["bt"]["entered"], r["bt"]["exited"]
            miss = str(r.get("bpf_misses") or 0)
            verdict = "entries %s, exits %s (perf, coupled to it, counted %s/%s)" % (
                "exact" if r["entries_ok"] else "MISMATCH (%+d)" % ((tin or 0) - (r["k_fw2_in"] or 0)),
                "exact" if r["exits_ok"] else "MISMATCH (%+d)" % ((tout or 0) - (r["k_fw2_out"] or 0)),
                r.get("perf_fw2_in"), r.get("perf_fw2_out"))
        elif c == "tcpstates":
            lost = r.get("lost")
            miss = str(r.get("bpf_misses") or 0)
            verdict = "prints every transition; %s events lost (perf buffer); perf counted %s/%s " \
                      "(blind while tcpstates is attached: its program returns 0)" % (
                          lost, r.get("perf_fw2_in"), r.get("perf_fw2_out"))
        kin, kout = r.get("k_fw2_in"), r.get("k_fw2_out")
        if r.get("perf_coupled"):
            kin, kout = "%s (conns)" % kin, "%s (conns)" % kout
        p("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            CFG_DESC[c], r["round"], r.get("conns"), kin, kout, tin, tout,
            lost, miss, ew, verdict))
    failed = [r for r in runs if r.get("failed")]
    if failed:
        p()
        p("Failed runs: " + ", ".join("%s (%s)" % (os.path.basename(r["dir"]), r["failed"]) for r in failed))
    sc = load_json(os.path.join(run, "scale", "result.json"))
    p()
    p("### Scale: held FIN_WAIT_2 sockets present at startup (netns lab)")
    p()
    if sc:
        p("| sockets | created in | finwatch count | ss count | startup wall | startup CPU | CPU per reconciliation | RSS after start | RSS after reconciliations | reconciled_missing | lost |")
        p("|---|---|---|---|---|---|---|---|---|---|---|")
        p("| %d | %.1f s | %s | %s | %.2f s | %.2f s | %s | %.1f MiB | %.1f MiB | %s | %s |" % (
            sc["n"], sc["create_ms"] / 1000, sc["finwatch_count"], sc["ss_count"],
            sc["startup_wall_ms"] / 1000, sc["startup_cpu_ms"] / 1000,
            fmt(sc.get("cpu_ms_per_reconcile"), "{:.0f} ms"), sc["startup_rss_kb"] / 1024,
            sc["end_rss_kb"] / 1024, sc.get("reconciled_missing"), sc.get("lost")))
        p()
        p("Count %s; %d namespaces scanned per reconciliation (%.1f reconciliations in %.1f s, %.0f ms CPU); "
          "load average then %s." % (
              "exact (finwatch == ss)" if sc["finwatch_count"] == sc["ss_count"] == sc["n"] else "MISMATCH",
              sc["namespaces"], sc["reconciles"], sc["window_s"], sc["window_cpu_ms"], sc["loadavg"].split()[0]))
    else:
        p("not run or failed (see scale/)")
    p()
    extra = rate_summary(run, p)
    # targets
    p()
    p("### Targets")
    p()
    w = [r for r in ok if r["cfg"] == "watch"]
    allw = [r for r in ok if r["cfg"] == "watch"]
    p("- zero loss (watch): entries exact in %d/%d runs, exits all reported (within the wait) in %d/%d, "
      "ring-buffer lost total %s; runs with 0 ring-buffer drops but missing entries (never submitted by "
      "either program copy, see the --rport diagnostic): %s" % (
          sum(1 for r in allw if r.get("entries_ok")), len(allw), sum(1 for r in allw if r.get("exits_ok")),
          len(allw), sum((r.get("lost") or 0) for r in allw),
          ", ".join("round %d: %d" % (r["round"], (r["k_fw2_in"] or 0) - (r["fw"].get("entered") or 0))
                    for r in allw if not r.get("lost") and not r.get("entries_ok")) or "none"))
    p("- zero loss vs what the tracepoint offered BPF programs (perf's count minus the hits even the "
      "empty program never got): %s" % ", ".join(
          "round %d: %s" % (r["round"], "exact" if r.get("undelivered") is not None and not r.get("lost") and
                            2 * ((r["k_fw2_in"] or 0) - (r["fw"].get("entered") or 0)) == r["undelivered"]
                            else "short by %d" % ((r["k_fw2_in"] or 0) - (r["fw"].get("entered") or 0) -
                                                  (r.get("undelivered") or 0) // 2))
          for r in allw) or "no runs")
    x = med([r.get("bpf_ns_per_tr") for r in w])
    bt = med([r.get("bpf_ns_per_tr") for r in ok if r["cfg"] == "bpftrace"])
    p("- kernel cost per transition, both copies: %s ns vs bpftrace's map-only histogram %s ns in this "
      "run: %s" % (fmt(x), fmt(bt), "met" if x is not None and bt is not None and x <= bt
                    else "NOT met" if x is not None and bt is not None else "not measured"))
    xt = med([r.get("bpf_ns_per_tr") for r in ok if r["cfg"] == "trace"])
    p("- kernel cost per transition, trace: %s ns (target <= 330, half of 661 at 1cde245): %s" % (
        fmt(xt), "met" if xt is not None and xt <= 330 else "NOT met" if xt is not None else "not measured"))
    xs = med([r.get("bpf_ns_per_tr") for r in ok if r["cfg"] == "single"])
    p("- kernel cost per transition, --single-program: %s ns" % fmt(xs))
    for key, what in (("cpu_us_per_conn", "host CPU"), ("cg_us_per_conn", "loadgen + tracer CPU")):
        if not extra or ("watch", key) not in extra or ("bpftrace", key) not in extra:
            continue
        (wm, wh), (bm, bh) = extra[("watch", key)], extra[("bpftrace", key)]
        if wm is None or bm is None:
            continue
        # watch minus bpftrace, paired by round: both ran in the same round
        rr = {}
        for r in rate_runs:
            if r["cfg"] in ("watch", "bpftrace") and r.get(key) is not None:
                rr.setdefault(r["round"], {})[r["cfg"]] = r[key]
        dm, dh = mean_ci([v["watch"] - v["bpftrace"] for v in rr.values() if len(v) == 2])
        resolved = dm is not None and dh is not None and dh < abs(dm)
        p("- extra %s per connection at a fixed rate: watch %s ± %s µs, bpftrace %s ± %s µs; watch - "
          "bpftrace paired by round %s ± %s µs: %s" % (
              what, fmt(wm, "{:.2f}"), fmt(wh, "{:.2f}"), fmt(bm, "{:.2f}"), fmt(bh, "{:.2f}"),
              fmt(dm, "{:.2f}"), fmt(dh, "{:.2f}"),
              ("met" if dm <= 0 else "NOT met") if resolved else
              "not resolved (the CI includes 0; point estimate: watch %s)" % (
                  "lower" if dm is not None and dm <= 0 else "higher")))
    wr = [r for r in ok if r["cfg"] == "watch"]
    if wr:
        w_win, w_all = med([r.get("cpu_pct") for r in wr]), med([r.get("cpu_pct_settled") for r in wr])
        p("- user CPU, watch (target <= 2 %% of a core, the timewait walks included): %s %% over the "
          "churn window, %s %% to the last exit reported: %s" % (
              fmt(w_win, "{:.1f}"), fmt(w_all, "{:.1f}"),
              "met" if w_all is not None and w_all <= 2 else "NOT met"))
    if sc:
        p("- scale: startup CPU %.2f s, per reconciliation %s (target < 1 s each): %s" % (
            sc["startup_cpu_ms"] / 1000, fmt(sc.get("cpu_ms_per_reconcile"), "{:.0f} ms"),
            "met" if sc["startup_cpu_ms"] < 1000 and (sc.get("cpu_ms_per_reconcile") or 1e9) < 1000 else "NOT met"))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(one_line(analyze_run(sys.argv[2])))
        return 0
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    summary(sys.argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
