// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "cli.h"


void cli_defaults(struct fw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cmd = FW_CMD_WATCH;
	cfg->ringbuf_bytes = 0;   /* per command, in check_combinations */
	cfg->interval_ns = 10 * NS_PER_SEC;
	/* Orphans die after tcp_fin_timeout (60 s by default): anything older
	 * than twice that is held by an application or a raised timeout. */
	cfg->max_age_ns = 120 * NS_PER_SEC;
	cfg->max_per_peer = 100;
	cfg->max_total = 1000;
	cfg->scan_interval_ns = 500 * NS_PER_MS;
	cfg->reconcile_ns = 60 * NS_PER_SEC;
	cfg->group_by = FW_GROUP_ADDR;
	cfg->top = 10;
	cfg->metrics_top = 20;
	cfg->hook_timeout_ns = 10 * NS_PER_SEC;
	/* Orphans already end after tcp_fin_timeout; held ones never do. */
	cfg->reap_kind = FW2_KIND_HELD;
	cfg->reap_rate = 10;
	cfg->pods_dir = "/var/log/pods";
}

int parse_listen_addr(const char *s, struct sockaddr_storage *out)
{
	char host[64];
	const char *colon;
	uint64_t port;
	size_t hl;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		hl = (size_t)(end - s - 1);
		if (hl == 0 || hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - s);
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (!hl)
			strcpy(host, "127.0.0.1");   /* loopback unless told otherwise */
	}
	if (parse_u64(colon + 1, 65535, &port) || port == 0)
		return -EINVAL;
	struct sockaddr_in *a4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;

	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		return 0;
	}
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		return 0;
	}
	return -EINVAL;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	/* The message echoes what the user typed: keep it one printable line
	 * whatever bytes the argument held (found by fuzz_cli). */
	for (char *p = err; errlen && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -EINVAL;
}

static int parse_group_by(const char *arg, struct fw_config *cfg)
{
	static const struct { const char *suffix; enum fw_group_workload wl; } wls[] = {
		{ ",pod", FW_GROUP_WL_POD }, { ",container", FW_GROUP_WL_CONTAINER },
		{ ",cgroup", FW_GROUP_WL_CGROUP },
	};
	uint64_t p4, p6;
	char a[16] = "", b[16] = "", s[16];
	size_t n = strlen(arg);

	/* A workload key last: "addr,pod", "/24,/64,container". */
	cfg->group_wl = FW_GROUP_WL_NONE;
	for (unsigned i = 0; i < sizeof(wls) / sizeof(wls[0]); i++) {
		size_t sl = strlen(wls[i].suffix);

		if (n > sl && !strcmp(arg + n - sl, wls[i].suffix)) {
			cfg->group_wl = wls[i].wl;
			n -= sl;
			break;
		}
	}
	if (n >= sizeof(s))
		return -EINVAL;
	memcpy(s, arg, n);
	s[n] = '\0';

	if (!strcmp(s, "addr")) {
		cfg->group_by = FW_GROUP_ADDR;
		return 0;
	}
	if (!strcmp(s, "addr:port")) {
		cfg->group_by = FW_GROUP_ADDR_PORT;
		return 0;
	}
	/* "/24" or "/24,/64" */
	if (s[0] != '/' || strlen(s) > 9)
		return -EINVAL;
	const char *comma = strchr(s, ',');
	if (comma) {
		if ((size_t)(comma - s - 1) >= sizeof(a) || comma[1] != '/')
			return -EINVAL;
		memcpy(a, s + 1, comma - s - 1);
		snprintf(b, sizeof(b), "%s", comma + 2);
	} else {
		snprintf(a, sizeof(a), "%s", s + 1);
	}
	if (parse_u64(a, 32, &p4))
		return -EINVAL;
	p6 = 64;
	if (comma && parse_u64(b, 128, &p6))
		return -EINVAL;
	cfg->group_by = FW_GROUP_PREFIX;
	cfg->group_prefix4 = (uint8_t)p4;
	cfg->group_prefix6 = (uint8_t)p6;
	return 0;
}

/*
 * Every option once: its name, short form, value, help and setter. The
 * parser (getopt_long) and --help are both made from this table; entries
 * without a name are --help's section headings, entries without help are
 * not listed.
 */
struct cli_opt;

struct opt_ctx {
	struct fw_config *cfg;
	const struct cli_opt *o;
	const char *arg;
	char *err;
	size_t errlen;
};

struct cli_opt {
	const char *name;
	char short_name;
	const char *arg;            /* metavar; NULL: no value */
	const char *help;           /* lines separated by \n */
	int (*set)(struct opt_ctx *c);
	size_t off;                 /* the fw_config field generic setters fill */
	uint64_t max;               /* generic counts: 1..max */
};

#define OPT(n, s, a, h, fn, ...) \
	{ .name = n, .short_name = s, .arg = a, .help = h, .set = fn, __VA_ARGS__ }
#define CFG(field) .off = offsetof(struct fw_config, field)
#define MAX(n) .max = (n)
#define FIELD(c, type) ((type *)((char *)(c)->cfg + (c)->o->off))

static int bad(struct opt_ctx *c, const char *what, const char *hint)
{
	return fail(c->err, c->errlen, "--%s: invalid %s '%s' (%s)", c->o->name, what, c->arg, hint);
}

static int set_help(struct opt_ctx *c) { return 1; }
static int set_version(struct opt_ctx *c) { return 2; }

static int set_flag(struct opt_ctx *c)
{
	*FIELD(c, int) = 1;
	return 0;
}

static int set_family(struct opt_ctx *c)
{
	if (c->cfg->family)
		return fail(c->err, c->errlen, "-4 and -6 are mutually exclusive");
	c->cfg->family = c->o->short_name == '4' ? FW_AF_INET : FW_AF_INET6;
	return 0;
}

static int ports(struct opt_ctx *c, uint16_t *list, int *n)
{
	if (parse_port_list(c->arg, list, FW_MAX_PORTS, n))
		return fail(c->err, c->errlen, "--%s: invalid port list '%s' (ports 1-65535, at most %d, comma-separated)",
			    c->o->name, c->arg, FW_MAX_PORTS);
	return 0;
}

static int set_lport(struct opt_ctx *c) { return ports(c, c->cfg->lports, &c->cfg->n_lports); }
static int set_rport(struct opt_ctx *c) { return ports(c, c->cfg->rports, &c->cfg->n_rports); }

static int cidrs(struct opt_ctx *c, struct cidr *list, int *n, const char *example)
{
	if (*n >= FW_MAX_PEERS)
		return fail(c->err, c->errlen, "--%s: more than %d given", c->o->name, FW_MAX_PEERS);
	if (parse_cidr(c->arg, &list[*n]))
		return bad(c, "CIDR", example);
	(*n)++;
	return 0;
}

static int set_peer(struct opt_ctx *c)
{
	return cidrs(c, c->cfg->peers, &c->cfg->n_peers, "e.g. 10.0.0.0/8, 2001:db8::/32, 192.0.2.7");
}

static int set_reap_peer(struct opt_ctx *c)
{
	return cidrs(c, c->cfg->reap_peers, &c->cfg->n_reap_peers, "e.g. 203.0.113.0/24");
}

/* DURATION values: any (0 turns a rule off), or at least c->o->max ns. */
static int set_duration(struct opt_ctx *c)
{
	uint64_t v;

	if (parse_duration_ns(c->arg, &v))
		return bad(c, "duration", "e.g. 500ms, 30s, 5m, 1h30m");
	if (c->o->max == 1 && !v)
		return fail(c->err, c->errlen, "--%s: must be more than 0, got '%s'", c->o->name, c->arg);
	if (c->o->max > 1 && v < c->o->max)
		return fail(c->err, c->errlen, "--%s: must be at least 100ms, got '%s'", c->o->name, c->arg);
	*FIELD(c, uint64_t) = v;
	return 0;
}

static int set_ringbuf(struct opt_ctx *c)
{
	uint64_t v;

	if (parse_u64(c->arg, 1ULL << 30, &v) || v < 4096 || (v & (v - 1)))
		return bad(c, "size", "a power of 2 from 4096 to 1073741824");
	c->cfg->ringbuf_bytes = v;
	return 0;
}

/* Alert thresholds: 0 (off) to 2^32-1. */
static int set_threshold(struct opt_ctx *c)
{
	uint64_t v;

	if (parse_u64(c->arg, UINT32_MAX, &v))
		return bad(c, "count", "0 to 4294967295");
	*FIELD(c, uint64_t) = v;
	return 0;
}

/* Table sizes: 1 to c->o->max. */
static int set_count(struct opt_ctx *c)
{
	char hint[32];
	uint64_t v;

	if (parse_u64(c->arg, c->o->max, &v) || v == 0) {
		snprintf(hint, sizeof(hint), "1 to %llu", (unsigned long long)c->o->max);
		return bad(c, "count", hint);
	}
	*FIELD(c, int) = (int)v;
	return 0;
}

static int set_group_by(struct opt_ctx *c)
{
	if (parse_group_by(c->arg, c->cfg))
		return bad(c, "key", "addr, addr:port, /24 or /24,/64, optionally followed by ,pod "
			   ",container or ,cgroup");
	return 0;
}

static int set_netns(struct opt_ctx *c)
{
	char buf[256], *save = NULL;

	if (!c->arg[0] || strlen(c->arg) >= sizeof(buf))
		return bad(c, "list", "inode numbers, /run/netns/NAME, NAME, /proc/PID/ns/net or self");
	/* Kept as given (pointers into argv); resolved at start. */
	snprintf(buf, sizeof(buf), "%s", c->arg);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (c->cfg->n_netns_args >= FW_MAX_NETNS)
			return fail(c->err, c->errlen, "--netns: more than %d namespaces", FW_MAX_NETNS);
		c->cfg->netns_args[c->cfg->n_netns_args++] = c->arg + (t - buf);
	}
	if (!c->cfg->n_netns_args)
		return bad(c, "list", "inode numbers, /run/netns/NAME, NAME, /proc/PID/ns/net or self");
	return 0;
}

static int set_metrics_labels(struct opt_ctx *c)
{
	static const struct { const char *name; int bit; } labels[] = {
		{ "pod", FW_ML_POD }, { "namespace", FW_ML_NAMESPACE }, { "container", FW_ML_CONTAINER },
	};
	const char *p = c->arg;

	c->cfg->metrics_labels = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		unsigned i;

		for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
			if (n == strlen(labels[i].name) && !strncmp(p, labels[i].name, n))
				break;
		if (i == sizeof(labels) / sizeof(labels[0]))
			return bad(c, "label list", "pod, namespace and container, comma-separated");
		c->cfg->metrics_labels |= labels[i].bit;
		p += n;
		if (*p == ',' && *++p == '\0')
			return bad(c, "label list", "pod, namespace and container, comma-separated");
	}
	if (!c->cfg->metrics_labels)
		return bad(c, "label list", "pod, namespace and container, comma-separated");
	return 0;
}

static int set_metrics(struct opt_ctx *c)
{
	if (parse_listen_addr(c->arg, &c->cfg->metrics_addr))
		return bad(c, "address", "e.g. :9861, 0.0.0.0:9861, [::1]:9861");
	c->cfg->metrics_enabled = 1;
	return 0;
}

static int set_path(struct opt_ctx *c)
{
	if (!c->arg[0])
		return fail(c->err, c->errlen, "--%s: empty path", c->o->name);
	*FIELD(c, const char *) = c->arg;
	return 0;
}

static int set_on_alert(struct opt_ctx *c)
{
	if (!c->arg[0] || c->arg[0] == ' ')
		return fail(c->err, c->errlen, "--on-alert: invalid command '%s'", c->arg);
	c->cfg->on_alert = c->arg;
	return 0;
}

static int set_reap_after(struct opt_ctx *c)
{
	uint64_t v;

	if (parse_duration_ns(c->arg, &v) || v < NS_PER_SEC)
		return bad(c, "duration", "at least 1s, e.g. 10m");
	c->cfg->reap_after_ns = v;
	return 0;
}

static int set_reap_kind(struct opt_ctx *c)
{
	static const struct { const char *name; enum fw2_kind kind; } kinds[] = {
		{ "held", FW2_KIND_HELD }, { "orphaned", FW2_KIND_ORPHANED }, { "all", FW2_KIND_ALL },
	};

	for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(c->arg, kinds[i].name)) {
			c->cfg->reap_kind = kinds[i].kind;
			return 0;
		}
	return bad(c, "kind", "held, orphaned or all");
}

static int set_reap_rate(struct opt_ctx *c)
{
	uint64_t v;

	if (parse_u64(c->arg, 100000, &v) || v == 0)
		return bad(c, "rate", "1 to 100000 per second");
	c->cfg->reap_rate = v;
	return 0;
}

static int set_hook_timeout(struct opt_ctx *c)
{
	uint64_t v;

	if (parse_duration_ns(c->arg, &v) || v < 100 * NS_PER_MS)
		return bad(c, "duration", "at least 100ms");
	c->cfg->hook_timeout_ns = v;
	return 0;
}

#define SECTION(text) { .help = text }

static const struct cli_opt opts[] = {
	SECTION("Filters (in the kernel unless noted):"),
	OPT("ipv4", '4', NULL, "IPv4 only", set_family),
	OPT("ipv6", '6', NULL, "IPv6 only", set_family),
	OPT("lport", 0, "LIST", "local ports, comma-separated (max 8), e.g. 443,8443", set_lport),
	OPT("rport", 0, "LIST", "remote ports, comma-separated (max 8)", set_rport),
	OPT("peer", 0, "CIDR", "remote address or prefix, repeatable (user space),\n"
			      "e.g. --peer 10.1.0.0/16 --peer fd00::/64", set_peer),
	OPT("netns", 0, "LIST", "only these network namespaces (max 16): inode\n"
			       "numbers, NAME or /run/netns/NAME, /proc/PID/ns/net,\n"
			       "or self (this process's: inside a container)", set_netns),
	OPT("cgroup", 0, "PATH", "only sockets created in this cgroup v2 subtree (user\n"
				"space), e.g. /kubepods.slice", set_path, CFG(cgroup_scope)),
	SECTION("Run control:"),
	OPT("duration", 0, "DURATION", "stop after DURATION (250ms, 30s, 5m, 2h, 1h30m)", set_duration,
	  CFG(duration_ns), MAX(1)),
	OPT("json", 0, NULL, "JSON Lines on stdout (schema: docs/JSON.md)", set_flag, CFG(json)),
	OPT("ringbuf-size", 0, "BYTES", "kernel->user ring buffer (power of 2, >= 4096;\n"
				       "default 4194304, trace 16777216)", set_ringbuf),
	OPT("single-program", 0, NULL, "attach one copy of the tracepoint program, not two\n"
				      "(two see events the kernel skips for one; for\n"
				      "cost measurements)", set_flag, CFG(single_program)),
	OPT("verbose", 'v', NULL, "libbpf and verifier logs on stderr", set_flag, CFG(verbose)),
	OPT("help", 'h', NULL, "this text;  --version  print the version", set_help),
	OPT("version", 0, NULL, NULL, set_version),
	SECTION("Watch mode:"),
	OPT("interval", 0, "DURATION", "per-peer table / JSON summary period (default 10s)", set_duration,
	  CFG(interval_ns), MAX(100 * NS_PER_MS)),
	OPT("max-age", 0, "DURATION", "alert when a socket stays in FIN_WAIT_2 longer\n"
				     "(default 2m; 0 disables)", set_duration, CFG(max_age_ns)),
	OPT("max-per-peer", 0, "N", "alert when a peer has more FIN_WAIT_2 sockets\n"
				   "(default 100; 0 disables)", set_threshold, CFG(max_per_peer)),
	OPT("max-total", 0, "N", "alert when the host has more (default 1000; 0 off)", set_threshold,
	  CFG(max_total)),
	OPT("group-by", 0, "KEY", "addr (default), addr:port, or a prefix length\n"
				 "such as /24 or /24,/64 (IPv4,IPv6); add ,pod\n"
				 ",container or ,cgroup to split peers by workload", set_group_by),
	OPT("pods-dir", 0, "DIR", "pod names and namespaces from DIR/<ns>_<pod>_<uid>\n"
				 "(default /var/log/pods)", set_path, CFG(pods_dir)),
	OPT("cgroup-fs", 0, "DIR", "the host's cgroup v2 hierarchy is mounted at DIR (in\n"
				  "a pod: a hostPath of /sys/fs/cgroup; default: the\n"
				  "cgroup2 mount in /proc/self/mountinfo)", set_path, CFG(cgroup_fs)),
	OPT("top", 0, "N", "peers shown per table (default 10)", set_count, CFG(top), MAX(1000)),
	OPT("scan-interval", 0, "DUR", "timewait follow-up scan period (default 500ms)", set_duration,
	  CFG(scan_interval_ns), MAX(100 * NS_PER_MS)),
	OPT("reconcile", 0, "DURATION", "full rescan to correct missed events (default 1m;\n"
				       "0 disables)", set_duration, CFG(reconcile_ns)),
	OPT("no-discovery", 0, NULL, "do not scan for sockets stuck before start", set_flag,
	  CFG(no_discovery)),
	OPT("exit-on-alert", 0, NULL, "exit status 3 if any alert fired", set_flag, CFG(exit_on_alert)),
	OPT("leaks-warn", 0, NULL, "with -- CMD: report leaked FIN_WAIT_2 sockets without\n"
				  "exit status 3", set_flag, CFG(leaks_warn)),
	SECTION("Integration (watch mode):"),
	OPT("metrics", 0, "ADDR:PORT", "serve Prometheus GET /metrics (:9861 = 127.0.0.1:9861;\n"
				      "0.0.0.0:9861 or [::]:9861 to expose it)", set_metrics),
	OPT("metrics-file", 0, "PATH", "write the same text atomically every --interval\n"
				      "(node_exporter textfile collector)", set_path, CFG(metrics_file)),
	OPT("metrics-top", 0, "K", "peers with their own series (default 20), the rest\n"
				  "are summed as peer=\"other\"", set_count, CFG(metrics_top), MAX(10000)),
	OPT("metrics-labels", 0, "LIST", "add pod, namespace and/or container labels to\n"
					"per-peer series (needs --group-by ...,pod or\n"
					",container)", set_metrics_labels),
	OPT("output", 0, "FILE", "JSON Lines to FILE (implies --json), reopened on\n"
			        "SIGHUP for logrotate", set_path, CFG(output)),
	OPT("syslog", 0, NULL, "alerts and FIN_WAIT_2 exits to syslog (daemon)", set_flag, CFG(syslog)),
	OPT("on-alert", 0, "CMD", "run CMD (split on spaces, no shell) on every alert\n"
				 "change: alert JSON on stdin, FINWATCH_* variables", set_on_alert),
	OPT("hook-timeout", 0, "DUR", "kill a hook still running after DUR (default 10s)", set_hook_timeout),
	SECTION("Reaping (off by default; destroying a socket sends the peer an RST and the\n"
		"peer may lose data it has not read yet):"),
	OPT("reap-after", 0, "DURATION", "destroy sockets in FIN_WAIT_2 longer than DURATION",
	  set_reap_after),
	OPT("reap-dry-run", 0, NULL, "report what would be destroyed, destroy nothing", set_flag,
	  CFG(reap_dry_run)),
	OPT("reap-peer", 0, "CIDR", "only sockets to these peers (repeatable)", set_reap_peer),
	OPT("reap-kind", 0, "KIND", "held (default), orphaned or all", set_reap_kind),
	OPT("reap-rate", 0, "N", "at most N sockets per second (default 10)", set_reap_rate),
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))
#define HELP_COL 29

/* getopt_long's value for opts[i]: its short form, or 256 + i. */
static int opt_val(size_t i)
{
	return opts[i].short_name ? opts[i].short_name : 256 + (int)i;
}

static const struct cli_opt *opt_of(int val)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (opts[i].name && opt_val(i) == val)
			return &opts[i];
	return NULL;
}

void cli_usage(FILE *out)
{
	fputs(
"Usage: finwatch [watch] [OPTIONS]     live FIN_WAIT_2 tracking per peer, alerts\n"
"       finwatch top [OPTIONS]         the same, as a full-screen view redrawn every\n"
"                                      second (keys: c/a/r sort, / filter, Enter\n"
"                                      detail, p pause, q quit)\n"
"       finwatch trace [OPTIONS]       stream every TCP state transition\n"
"       finwatch doctor [--json]       one-shot report per network namespace: FIN_WAIT_2\n"
"                                      counts, kernel limits, and what helps\n"
"       finwatch [OPTIONS] -- CMD [ARGS...]\n"
"                                      run CMD, watch only its sockets, report the\n"
"                                      FIN_WAIT_2 sockets it leaked (CI jobs)\n"
"\n", out);
	for (const struct cli_opt *o = opts; o < opts + N_OPTS; o++) {
		char left[64], sn[8] = "    ";

		if (!o->help)
			continue;
		if (!o->name) {
			fprintf(out, "%s\n", o->help);
			continue;
		}
		if (o->short_name)
			snprintf(sn, sizeof(sn), "-%c, ", o->short_name);
		snprintf(left, sizeof(left), "  %s--%s%s%s", sn, o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
		fprintf(out, "%-*s", HELP_COL, left);
		for (const char *h = o->help; *h; h++)
			fprintf(out, *h == '\n' ? "\n%*s" : "%c", *h == '\n' ? HELP_COL : *h, "");
		fputc('\n', out);
	}
	fputs(
"\n"
"Exit status: 0 ok, 1 runtime error, 2 bad usage, 3 an alert fired\n"
"             (with --exit-on-alert). With -- CMD: CMD's status if non-zero,\n"
"             else 3 if an alert fired or CMD leaked FIN_WAIT_2 sockets, else 0.\n"
"Examples:\n"
"  finwatch                              watch all peers with default limits\n"
"  finwatch --max-per-peer 50 --peer 203.0.113.0/24 --interval 5s\n"
"  finwatch --json --duration 30s --exit-on-alert    CI smoke run\n"
"  finwatch top --max-per-peer 50                   live view on a terminal\n"
"  finwatch trace --rport 443 -4\n"
"  finwatch trace --json --duration 10s > transitions.jsonl\n"
"  finwatch --reap-after 10m --reap-peer 203.0.113.0/24 --reap-dry-run\n"
"  finwatch --json -- make integration-test         CI: that job's sockets only\n",
		out);
}

/* "watch", "top", "trace" or "doctor" first, the git way; options may follow. */
static int parse_command(int *argc, char ***argv, struct fw_config *cfg, char *err, size_t errlen)
{
	if (*argc < 2 || (*argv)[1][0] == '-')
		return 0;
	for (int i = 0; i < FW_CMD_MAX; i++)
		if (!strcmp((*argv)[1], fw_cmd_name((enum fw_cmd)i))) {
			cfg->cmd = (enum fw_cmd)i;
			(*argc)--;
			(*argv)++;
			return 0;
		}
	return fail(err, errlen, "unknown command '%s' (use watch, top, trace or doctor)", (*argv)[1]);
}

/* Options that only make sense together. */
static int check_combinations(struct fw_config *cfg, char *err, size_t errlen)
{
	/* top's screen is stdout: JSON Lines can only go to --output. */
	if (cfg->cmd == FW_CMD_TOP && cfg->json && !cfg->output)
		return fail(err, errlen, "--json: top draws on the terminal; use watch --json, or top "
			    "--output FILE for the records");
	if (cfg->output)
		cfg->json = 1;
	if (!fw_cmd_watches(cfg->cmd) && (cfg->metrics_enabled || cfg->metrics_file || cfg->on_alert ||
					 cfg->reap_after_ns || cfg->output || cfg->syslog))
		return fail(err, errlen, "--metrics, --metrics-file, --on-alert, --output, --syslog and "
			    "--reap-* apply to watch mode (and top) only");
	if (!cfg->reap_after_ns && (cfg->reap_dry_run || cfg->n_reap_peers))
		return fail(err, errlen, "--reap-dry-run and --reap-peer need --reap-after DURATION");
	if (cfg->metrics_labels && cfg->group_wl != FW_GROUP_WL_POD && cfg->group_wl != FW_GROUP_WL_CONTAINER)
		return fail(err, errlen, "--metrics-labels needs --group-by KEY,pod or KEY,container "
			    "(labels name the group's workload)");
	if (cfg->cmd == FW_CMD_TRACE && cfg->group_wl)
		return fail(err, errlen, "--group-by applies to watch and top only");
	if (cfg->child_argv && cfg->cmd != FW_CMD_WATCH)
		return fail(err, errlen, "-- CMD runs with watch mode only");
	if (cfg->child_argv && (cfg->duration_ns || cfg->cgroup_scope || cfg->n_netns_args))
		return fail(err, errlen, "-- CMD sets the scope and the end of the run itself: drop "
			    "--duration, --cgroup and --netns");
	if (cfg->leaks_warn && !cfg->child_argv)
		return fail(err, errlen, "--leaks-warn applies to -- CMD only");
	/* trace writes a record for every transition (~36 MB/s at 28k
	 * connections/s): 4 MiB lasted ~115 ms when the reader was not
	 * scheduled, and a saturated 2-CPU churn lost 0.6% of one run. */
	if (!cfg->ringbuf_bytes)
		cfg->ringbuf_bytes = cfg->cmd == FW_CMD_TRACE ? 16u << 20 : 4u << 20;
	return 0;
}

int cli_parse(int argc, char **argv, struct fw_config *cfg, char *err, size_t errlen)
{
	struct option long_opts[N_OPTS + 1];
	char shorts[16] = ":";
	size_t n = 0, ns = 1;
	int c, r;

	cli_defaults(cfg);
	if (errlen)
		err[0] = '\0';
	/* The command to wrap: split off before getopt, which would permute
	 * its options into ours. */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			if (i + 1 == argc)
				return fail(err, errlen, "--: no command after it (finwatch [OPTIONS] -- CMD [ARGS...])");
			cfg->child_argv = &argv[i + 1];
			argc = i;
			break;
		}
	r = parse_command(&argc, &argv, cfg, err, errlen);
	if (r)
		return r;
	for (size_t i = 0; i < N_OPTS; i++) {
		if (!opts[i].name)
			continue;
		long_opts[n++] = (struct option){ opts[i].name, opts[i].arg ? required_argument : no_argument,
						  NULL, opt_val(i) };
		if (opts[i].short_name && ns + 1 < sizeof(shorts))
			shorts[ns++] = opts[i].short_name;
	}
	long_opts[n] = (struct option){ 0 };
	optind = 0;     /* glibc: full re-initialisation, so tests can call us twice */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, long_opts, NULL)) != -1) {
		const struct cli_opt *o = opt_of(c);
		struct opt_ctx ctx = { cfg, o, optarg, err, errlen };

		if (o) {
			r = o->set(&ctx);
			if (r)
				return r;
		} else if (c == ':') {
			o = opt_of(optopt);
			if (o)
				return fail(err, errlen, "--%s: missing value", o->name);
			return fail(err, errlen, "%s: missing value", argv[optind - 1]);
		} else if (optopt && optopt < 256) {
			return fail(err, errlen, "unknown option '-%c'", optopt);
		} else {
			return fail(err, errlen, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return fail(err, errlen, "unexpected argument '%s'", argv[optind]);
	return check_combinations(cfg, err, errlen);
}

int cidr_list_match(const struct cidr *list, int n, uint16_t family, const uint8_t *addr)
{
	if (!n)
		return 1;
	for (int i = 0; i < n; i++)
		if (cidr_match(&list[i], family, addr))
			return 1;
	return 0;
}

int cli_peer_allowed(const struct fw_config *cfg, uint16_t family, const uint8_t *addr)
{
	return cidr_list_match(cfg->peers, cfg->n_peers, family, addr);
}

static int port_in(uint16_t port, const uint16_t *list, int n)
{
	for (int i = 0; i < n; i++)
		if (list[i] == port)
			return 1;
	return 0;
}

int cli_socket_allowed(const struct fw_config *cfg, uint16_t family, uint16_t sport, uint16_t dport,
		       const uint8_t *daddr)
{
	if (cfg->family && family != cfg->family)
		return 0;
	if (cfg->n_lports && !port_in(sport, cfg->lports, cfg->n_lports))
		return 0;
	if (cfg->n_rports && !port_in(dport, cfg->rports, cfg->n_rports))
		return 0;
	return cli_peer_allowed(cfg, family, daddr);
}

struct fw2_policy cli_tracker_policy(const struct fw_config *cfg)
{
	return (struct fw2_policy){
		.group_by = cfg->group_by,
		.group_prefix4 = cfg->group_prefix4,
		.group_prefix6 = cfg->group_prefix6,
		.max_age_ns = cfg->max_age_ns,
		.max_per_peer = cfg->max_per_peer,
		.max_total = cfg->max_total,
		.keep_laddr = cfg->reap_after_ns != 0,
		.group_wl = cfg->group_wl,
	};
}
