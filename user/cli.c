// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "cli.h"


enum {
	OPT_LPORT = 256, OPT_RPORT, OPT_PEER, OPT_DURATION, OPT_JSON, OPT_RINGBUF,
	OPT_INTERVAL, OPT_MAX_AGE, OPT_MAX_PER_PEER, OPT_MAX_TOTAL, OPT_SCAN_INTERVAL,
	OPT_RECONCILE, OPT_GROUP_BY, OPT_EXIT_ON_ALERT, OPT_TOP, OPT_NO_DISCOVERY,
	OPT_VERSION, OPT_METRICS, OPT_METRICS_FILE, OPT_METRICS_TOP, OPT_OUTPUT, OPT_SYSLOG,
	OPT_ON_ALERT, OPT_HOOK_TIMEOUT, OPT_REAP_AFTER, OPT_REAP_DRY_RUN, OPT_REAP_PEER,
	OPT_REAP_KIND, OPT_REAP_RATE, OPT_SINGLE_PROGRAM,
};

static const struct option long_opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "verbose", no_argument, NULL, 'v' },
	{ "ipv4", no_argument, NULL, '4' },
	{ "ipv6", no_argument, NULL, '6' },
	{ "lport", required_argument, NULL, OPT_LPORT },
	{ "rport", required_argument, NULL, OPT_RPORT },
	{ "peer", required_argument, NULL, OPT_PEER },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "ringbuf-size", required_argument, NULL, OPT_RINGBUF },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "max-age", required_argument, NULL, OPT_MAX_AGE },
	{ "max-per-peer", required_argument, NULL, OPT_MAX_PER_PEER },
	{ "max-total", required_argument, NULL, OPT_MAX_TOTAL },
	{ "scan-interval", required_argument, NULL, OPT_SCAN_INTERVAL },
	{ "reconcile", required_argument, NULL, OPT_RECONCILE },
	{ "group-by", required_argument, NULL, OPT_GROUP_BY },
	{ "exit-on-alert", no_argument, NULL, OPT_EXIT_ON_ALERT },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "no-discovery", no_argument, NULL, OPT_NO_DISCOVERY },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
	{ "metrics-top", required_argument, NULL, OPT_METRICS_TOP },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "syslog", no_argument, NULL, OPT_SYSLOG },
	{ "on-alert", required_argument, NULL, OPT_ON_ALERT },
	{ "hook-timeout", required_argument, NULL, OPT_HOOK_TIMEOUT },
	{ "reap-after", required_argument, NULL, OPT_REAP_AFTER },
	{ "reap-dry-run", no_argument, NULL, OPT_REAP_DRY_RUN },
	{ "reap-peer", required_argument, NULL, OPT_REAP_PEER },
	{ "reap-kind", required_argument, NULL, OPT_REAP_KIND },
	{ "reap-rate", required_argument, NULL, OPT_REAP_RATE },
	{ "single-program", no_argument, NULL, OPT_SINGLE_PROGRAM },
	{ NULL, 0, NULL, 0 },
};

void cli_defaults(struct fw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cmd = FW_CMD_WATCH;
	cfg->ringbuf_bytes = 4 << 20;
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

void cli_usage(FILE *out)
{
	fputs(
"Usage: finwatch [watch] [OPTIONS]     live FIN_WAIT_2 tracking per peer, alerts\n"
"       finwatch trace [OPTIONS]       stream every TCP state transition\n"
"       finwatch doctor [--json]       one-shot report per network namespace: FIN_WAIT_2\n"
"                                      counts, kernel limits, and what helps\n"
"\n"
"Filters (in the kernel unless noted):\n"
"  -4, --ipv4                 IPv4 only\n"
"  -6, --ipv6                 IPv6 only\n"
"      --lport LIST           local ports, comma-separated (max 8), e.g. 443,8443\n"
"      --rport LIST           remote ports, comma-separated (max 8)\n"
"      --peer CIDR            remote address or prefix, repeatable (user space),\n"
"                             e.g. --peer 10.1.0.0/16 --peer fd00::/64\n"
"Run control:\n"
"      --duration DURATION    stop after DURATION (250ms, 30s, 5m, 2h, 1h30m)\n"
"      --json                 JSON Lines on stdout (schema: docs/JSON.md)\n"
"      --ringbuf-size BYTES   kernel->user ring buffer (power of 2, >= 4096;\n"
"                             default 4194304)\n"
"      --single-program       attach one copy of the tracepoint program, not two\n"
"                             (two see events the kernel skips for one; for\n"
"                             cost measurements)\n"
"  -v, --verbose              libbpf and verifier logs on stderr\n"
"  -h, --help                 this text;  --version  print the version\n"
"Watch mode:\n"
"      --interval DURATION    per-peer table / JSON summary period (default 10s)\n"
"      --max-age DURATION     alert when a socket stays in FIN_WAIT_2 longer\n"
"                             (default 2m; 0 disables)\n"
"      --max-per-peer N       alert when a peer has more FIN_WAIT_2 sockets\n"
"                             (default 100; 0 disables)\n"
"      --max-total N          alert when the host has more (default 1000; 0 off)\n"
"      --group-by KEY         addr (default), addr:port, or a prefix length\n"
"                             such as /24 or /24,/64 (IPv4,IPv6)\n"
"      --top N                peers shown per table (default 10)\n"
"      --scan-interval DUR    timewait follow-up scan period (default 500ms)\n"
"      --reconcile DURATION   full rescan to correct missed events (default 1m;\n"
"                             0 disables)\n"
"      --no-discovery         do not scan for sockets stuck before start\n"
"      --exit-on-alert        exit status 3 if any alert fired\n"
"Integration (watch mode):\n"
"      --metrics ADDR:PORT    serve Prometheus GET /metrics (:9861 = 127.0.0.1:9861;\n"
"                             0.0.0.0:9861 or [::]:9861 to expose it)\n"
"      --metrics-file PATH    write the same text atomically every --interval\n"
"                             (node_exporter textfile collector)\n"
"      --metrics-top K        peers with their own series (default 20), the rest\n"
"                             are summed as peer=\"other\"\n"
"      --output FILE          JSON Lines to FILE (implies --json), reopened on\n"
"                             SIGHUP for logrotate\n"
"      --syslog               alerts and FIN_WAIT_2 exits to syslog (daemon)\n"
"      --on-alert CMD         run CMD (split on spaces, no shell) on every alert\n"
"                             change: alert JSON on stdin, FINWATCH_* variables\n"
"      --hook-timeout DUR     kill a hook still running after DUR (default 10s)\n"
"Reaping (off by default; destroying a socket sends the peer an RST and the\n"
"peer may lose data it has not read yet):\n"
"      --reap-after DURATION  destroy sockets in FIN_WAIT_2 longer than DURATION\n"
"      --reap-dry-run         report what would be destroyed, destroy nothing\n"
"      --reap-peer CIDR       only sockets to these peers (repeatable)\n"
"      --reap-kind KIND       held (default), orphaned or all\n"
"      --reap-rate N          at most N sockets per second (default 10)\n"
"\n"
"Exit status: 0 ok, 1 runtime error, 2 bad usage, 3 an alert fired\n"
"             (with --exit-on-alert).\n"
"Examples:\n"
"  finwatch                              watch all peers with default limits\n"
"  finwatch --max-per-peer 50 --peer 203.0.113.0/24 --interval 5s\n"
"  finwatch --json --duration 30s --exit-on-alert    CI smoke run\n"
"  finwatch trace --rport 443 -4\n"
"  finwatch trace --json --duration 10s > transitions.jsonl\n"
"  finwatch --reap-after 10m --reap-peer 203.0.113.0/24 --reap-dry-run\n",
		out);
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

static const char *opt_name(int c, char *buf, size_t len)
{
	for (const struct option *o = long_opts; o->name; o++)
		if (o->val == c) {
			snprintf(buf, len, "--%s", o->name);
			return buf;
		}
	snprintf(buf, len, "-%c", c);
	return buf;
}

static int parse_group_by(const char *s, struct fw_config *cfg)
{
	uint64_t p4, p6;
	char a[8] = "", b[8] = "";

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

int cli_parse(int argc, char **argv, struct fw_config *cfg, char *err, size_t errlen)
{
	char nb[32];
	uint64_t v;
	int c;

	cli_defaults(cfg);
	if (errlen)
		err[0] = '\0';
	/* Subcommand first, the git way; options may follow. */
	if (argc > 1 && argv[1][0] != '-') {
		if (!strcmp(argv[1], "watch"))
			cfg->cmd = FW_CMD_WATCH;
		else if (!strcmp(argv[1], "trace"))
			cfg->cmd = FW_CMD_TRACE;
		else if (!strcmp(argv[1], "doctor"))
			cfg->cmd = FW_CMD_DOCTOR;
		else
			return fail(err, errlen, "unknown command '%s' (use watch, trace or doctor)", argv[1]);
		argc--;
		argv++;
	}
	optind = 0;     /* glibc: full re-initialisation, so tests can call us twice */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hv46", long_opts, NULL)) != -1) {
		const char *arg = optarg;
		int r;

		switch (c) {
		case 'h':
			return 1;
		case OPT_VERSION:
			return 2;
		case 'v':
			cfg->verbose = 1;
			break;
		case '4':
		case '6':
			if (cfg->family)
				return fail(err, errlen, "-4 and -6 are mutually exclusive");
			cfg->family = c == '4' ? FW_AF_INET : FW_AF_INET6;
			break;
		case OPT_LPORT:
		case OPT_RPORT:
			r = c == OPT_LPORT ? parse_port_list(arg, cfg->lports, FW_MAX_PORTS, &cfg->n_lports)
					   : parse_port_list(arg, cfg->rports, FW_MAX_PORTS, &cfg->n_rports);
			if (r)
				return fail(err, errlen, "%s: invalid port list '%s' (ports 1-65535, at most %d, comma-separated)",
					    opt_name(c, nb, sizeof(nb)), arg, FW_MAX_PORTS);
			break;
		case OPT_PEER:
			if (cfg->n_peers >= FW_MAX_PEERS)
				return fail(err, errlen, "--peer: more than %d given", FW_MAX_PEERS);
			if (parse_cidr(arg, &cfg->peers[cfg->n_peers]))
				return fail(err, errlen, "--peer: invalid CIDR '%s' (e.g. 10.0.0.0/8, 2001:db8::/32, 192.0.2.7)", arg);
			cfg->n_peers++;
			break;
		case OPT_DURATION:
		case OPT_INTERVAL:
		case OPT_MAX_AGE:
		case OPT_SCAN_INTERVAL:
		case OPT_RECONCILE:
			if (parse_duration_ns(arg, &v))
				return fail(err, errlen, "%s: invalid duration '%s' (e.g. 500ms, 30s, 5m, 1h30m)",
					    opt_name(c, nb, sizeof(nb)), arg);
			if (c == OPT_DURATION) {
				if (!v)
					return fail(err, errlen, "--duration: must be more than 0, got '%s'", arg);
				cfg->duration_ns = v;
			} else if (c == OPT_INTERVAL) {
				if (v < 100 * NS_PER_MS)
					return fail(err, errlen, "--interval: must be at least 100ms, got '%s'", arg);
				cfg->interval_ns = v;
			} else if (c == OPT_SCAN_INTERVAL) {
				if (v < 100 * NS_PER_MS)
					return fail(err, errlen, "--scan-interval: must be at least 100ms, got '%s'", arg);
				cfg->scan_interval_ns = v;
			} else if (c == OPT_MAX_AGE) {
				cfg->max_age_ns = v;
			} else {
				cfg->reconcile_ns = v;
			}
			break;
		case OPT_JSON:
			cfg->json = 1;
			break;
		case OPT_RINGBUF:
			if (parse_u64(arg, 1ULL << 30, &v) || v < 4096 || (v & (v - 1)))
				return fail(err, errlen, "--ringbuf-size: invalid size '%s' (a power of 2 from 4096 to 1073741824)", arg);
			cfg->ringbuf_bytes = v;
			break;
		case OPT_MAX_PER_PEER:
		case OPT_MAX_TOTAL:
			if (parse_u64(arg, UINT32_MAX, &v))
				return fail(err, errlen, "%s: invalid count '%s' (0 to 4294967295)",
					    opt_name(c, nb, sizeof(nb)), arg);
			if (c == OPT_MAX_PER_PEER)
				cfg->max_per_peer = v;
			else
				cfg->max_total = v;
			break;
		case OPT_GROUP_BY:
			if (parse_group_by(arg, cfg))
				return fail(err, errlen, "--group-by: invalid key '%s' (addr, addr:port, /24 or /24,/64)", arg);
			break;
		case OPT_EXIT_ON_ALERT:
			cfg->exit_on_alert = 1;
			break;
		case OPT_TOP:
			if (parse_u64(arg, 1000, &v) || v == 0)
				return fail(err, errlen, "--top: invalid count '%s' (1 to 1000)", arg);
			cfg->top = (int)v;
			break;
		case OPT_NO_DISCOVERY:
			cfg->no_discovery = 1;
			break;
		case OPT_METRICS:
			if (parse_listen_addr(arg, &cfg->metrics_addr))
				return fail(err, errlen, "--metrics: invalid address '%s' (e.g. :9861, 0.0.0.0:9861, [::1]:9861)", arg);
			cfg->metrics_enabled = 1;
			break;
		case OPT_METRICS_FILE:
		case OPT_OUTPUT:
			if (!arg[0])
				return fail(err, errlen, "%s: empty path", opt_name(c, nb, sizeof(nb)));
			if (c == OPT_OUTPUT)
				cfg->output = arg;
			else
				cfg->metrics_file = arg;
			break;
		case OPT_METRICS_TOP:
			if (parse_u64(arg, 10000, &v) || v == 0)
				return fail(err, errlen, "--metrics-top: invalid count '%s' (1 to 10000)", arg);
			cfg->metrics_top = (int)v;
			break;
		case OPT_SYSLOG:
			cfg->syslog = 1;
			break;
		case OPT_ON_ALERT:
			if (!arg[0] || arg[0] == ' ')
				return fail(err, errlen, "--on-alert: invalid command '%s'", arg);
			cfg->on_alert = arg;
			break;
		case OPT_REAP_AFTER:
			if (parse_duration_ns(arg, &v) || v < NS_PER_SEC)
				return fail(err, errlen, "--reap-after: invalid duration '%s' (at least 1s, e.g. 10m)", arg);
			cfg->reap_after_ns = v;
			break;
		case OPT_SINGLE_PROGRAM:
			cfg->single_program = 1;
			break;
		case OPT_REAP_DRY_RUN:
			cfg->reap_dry_run = 1;
			break;
		case OPT_REAP_PEER:
			if (cfg->n_reap_peers >= FW_MAX_PEERS)
				return fail(err, errlen, "--reap-peer: more than %d given", FW_MAX_PEERS);
			if (parse_cidr(arg, &cfg->reap_peers[cfg->n_reap_peers]))
				return fail(err, errlen, "--reap-peer: invalid CIDR '%s' (e.g. 203.0.113.0/24)", arg);
			cfg->n_reap_peers++;
			break;
		case OPT_REAP_KIND:
			if (!strcmp(arg, "held"))
				cfg->reap_kind = FW2_KIND_HELD;
			else if (!strcmp(arg, "orphaned"))
				cfg->reap_kind = FW2_KIND_ORPHANED;
			else if (!strcmp(arg, "all"))
				cfg->reap_kind = FW2_KIND_ALL;
			else
				return fail(err, errlen, "--reap-kind: invalid kind '%s' (held, orphaned or all)", arg);
			break;
		case OPT_REAP_RATE:
			if (parse_u64(arg, 100000, &v) || v == 0)
				return fail(err, errlen, "--reap-rate: invalid rate '%s' (1 to 100000 per second)", arg);
			cfg->reap_rate = v;
			break;
		case OPT_HOOK_TIMEOUT:
			if (parse_duration_ns(arg, &v) || v < 100 * NS_PER_MS)
				return fail(err, errlen, "--hook-timeout: invalid duration '%s' (at least 100ms)", arg);
			cfg->hook_timeout_ns = v;
			break;
		case ':':
			if (optopt)
				return fail(err, errlen, "%s: missing value", opt_name(optopt, nb, sizeof(nb)));
			return fail(err, errlen, "%s: missing value", argv[optind - 1]);
		default:
			if (optopt && optopt < 256)
				return fail(err, errlen, "unknown option '-%c'", optopt);
			return fail(err, errlen, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return fail(err, errlen, "unexpected argument '%s'", argv[optind]);
	if (cfg->output)
		cfg->json = 1;
	if (cfg->cmd != FW_CMD_WATCH && (cfg->metrics_enabled || cfg->metrics_file || cfg->on_alert ||
					 cfg->reap_after_ns || cfg->output || cfg->syslog))
		return fail(err, errlen, "--metrics, --metrics-file, --on-alert, --output, --syslog and "
			    "--reap-* apply to watch mode only");
	if (!cfg->reap_after_ns && (cfg->reap_dry_run || cfg->n_reap_peers))
		return fail(err, errlen, "--reap-dry-run and --reap-peer need --reap-after DURATION");
	return 0;
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

void cli_tracker_policy(const struct fw_config *cfg, struct fw2_policy *pol)
{
	*pol = (struct fw2_policy){
		.group_by = cfg->group_by,
		.group_prefix4 = cfg->group_prefix4,
		.group_prefix6 = cfg->group_prefix6,
		.max_age_ns = cfg->max_age_ns,
		.max_per_peer = cfg->max_per_peer,
		.max_total = cfg->max_total,
		.keep_laddr = cfg->reap_after_ns != 0,
	};
}
