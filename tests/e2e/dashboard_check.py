#!/usr/bin/env python3
"""Checks a Grafana dashboard's queries against a real Prometheus server
(tests/e2e/test_dashboard.sh).

  dashboard_check.py DASHBOARD PROM_URL SCRAPE_FILE [VAR=VALUE...] [--nonzero TITLE...]

- structure: unique panel ids, a grid position, every panel on the
  ${datasource} variable, template variables instance, netns and peer;
- every metric name in a query (finwatch_*, process_*) is one finwatch
  exports (the # TYPE lines of SCRAPE_FILE, a GET /metrics; histograms add
  _bucket, _sum and _count);
- every panel query, with the template variables replaced (VAR=VALUE; a
  custom variable defaults to its current value; $__rate_interval and
  $__interval default to 1m), is evaluated with /api/v1/query: it must parse
  and return at least one series; panels named with --nonzero must have a
  non-zero value;
- every query variable (label_values(SELECTOR, LABEL)) is resolved with
  /api/v1/series; with VAR=VALUE given, VALUE (not a regex) must be among
  its values.
Prints one line per query; exit 1 if anything fails.
"""
import json
import re
import sys
import urllib.parse
import urllib.request


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.load(r)


def api(prom, path, params):
    try:
        return get(prom.rstrip("/") + path + "?" + urllib.parse.urlencode(params, doseq=True))
    except urllib.error.HTTPError as e:  # 400 on a parse error: the body says why
        return json.load(e)


def main():
    argv = sys.argv[1:]
    nonzero = set()
    if "--nonzero" in argv:
        i = argv.index("--nonzero")
        nonzero = set(argv[i + 1:])
        argv = argv[:i]
    dash_file, prom, scrape_file = argv[:3]
    given = dict(a.split("=", 1) for a in argv[3:])
    dash = json.load(open(dash_file))
    bad = []

    exported = set()
    for line in open(scrape_file):
        m = re.match(r"# TYPE (\S+) (\S+)", line)
        if m:
            exported.add(m.group(1))
            if m.group(2) == "histogram":
                exported.update(m.group(1) + s for s in ("_bucket", "_sum", "_count"))

    panels = []
    for p in dash.get("panels", []):
        panels.append(p)
        panels.extend(p.get("panels", []))  # collapsed rows
    ids = [p.get("id") for p in panels]
    if len(ids) != len(set(ids)):
        bad.append("duplicate panel ids: %s" % ids)
    variables = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
    for v in ("datasource", "instance", "netns", "peer"):
        if v not in variables:
            bad.append("no template variable %s" % v)

    values = {"__rate_interval": "1m", "__interval": "1m", "__range": "1m"}
    for name, v in variables.items():
        if v.get("type") == "custom":
            values[name] = v.get("current", {}).get("value", "")
        elif v.get("type") == "query":
            values[name] = v.get("allValue") or ".*"
    for name, val in given.items():
        # As Grafana does: a regex-escaped value, its backslashes doubled
        # inside PromQL's double-quoted string.
        values[name] = re.escape(val).replace("\\", "\\\\") if variables.get(name, {}).get("type") == "query" else val

    def subst(expr):
        return re.sub(r"\$\{?(\w+)\}?", lambda m: values.get(m.group(1), m.group(0)), expr)

    def names_ok(where, expr):
        for n in set(re.findall(r"\b((?:finwatch|process)_[a-z0-9_]+)\b", expr)):
            if n not in exported:
                bad.append("%s: metric %s is not exported by finwatch" % (where, n))

    # Template variables.
    for name, v in variables.items():
        if v.get("type") != "query":
            continue
        q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        m = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", q.strip())
        if not m:
            bad.append("variable %s: not label_values(SELECTOR, LABEL): %s" % (name, q))
            continue
        names_ok("variable " + name, q)
        doc = api(prom, "/api/v1/series", {"match[]": subst(m.group(1))})
        if doc.get("status") != "success":
            bad.append("variable %s: %s" % (name, doc.get("error")))
            continue
        got = sorted({s.get(m.group(2)) for s in doc["data"] if m.group(2) in s})
        ok = got and (name not in given or given[name] in got)
        print("%-4s variable %-10s %s -> %s" % ("ok" if ok else "FAIL", name, q, got))
        if not ok:
            bad.append("variable %s: values %s%s" % (name, got, ", want %s among them" % given[name] if name in given else ""))

    # Panel queries.
    n = 0
    for p in panels:
        if p.get("type") == "row":
            continue
        title = p.get("title", "?")
        if p.get("datasource", {}).get("uid") != "${datasource}":
            bad.append("panel %r: datasource %s, want the ${datasource} variable" % (title, p.get("datasource")))
        if "gridPos" not in p:
            bad.append("panel %r: no gridPos" % title)
        if not p.get("targets"):
            bad.append("panel %r: no queries" % title)
        vals_all = []
        for t in p.get("targets", []):
            n += 1
            where = "panel %r %s" % (title, t.get("refId"))
            names_ok(where, t["expr"])
            q = subst(t["expr"])
            if "$" in q:
                bad.append("%s: unreplaced variable in %s" % (where, q))
                continue
            doc = api(prom, "/api/v1/query", {"query": q})
            if doc.get("status") != "success":
                bad.append("%s: %s: %s" % (where, q, doc.get("error")))
                print("FAIL %s: %s" % (where, doc.get("error")))
                continue
            res = doc["data"]["result"]
            vals = [float(r["value"][1]) for r in res]
            vals_all += vals
            print("%-4s %s: %d series, values %s" % ("ok" if res else "FAIL", where, len(res), sorted(set(vals))[-4:]))
            if not res:
                bad.append("%s: no data: %s" % (where, q))
        if title in nonzero and not any(v != 0 for v in vals_all):
            bad.append("panel %r: all values zero, the lab has some" % title)
    missing = nonzero - {p.get("title") for p in panels}
    if missing:
        bad.append("--nonzero names unknown panels: %s" % sorted(missing))
    print("%d queries in %d panels" % (n, len([p for p in panels if p.get("type") != "row"])))
    if bad:
        sys.stderr.write("".join(b + "\n" for b in bad))
        sys.exit(1)


if __name__ == "__main__":
    main()
