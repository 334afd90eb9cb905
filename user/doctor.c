// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "doctor.h"
#include "parse.h"
#include "sock_destroy.h"
#include "trace_fmt.h"

#define DOCTOR_TOP 10

struct ns_facts {
	long fin_timeout, max_orphans, max_tw_buckets;
	long inuse, orphans, tw;
	int destroy;            /* 1 supported, 0 not, -1 unknown */
};

static long read_long(const char *path)
{
	char b[64] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	return n > 0 ? strtol(b, NULL, 10) : -1;
}

/* Runs inside the namespace: /proc/sys/net and /proc/thread-self/net are
 * the reader's namespace's. */
static int gather(void *ctx)
{
	struct ns_facts *f = ctx;
	char line[256];
	FILE *s;

	f->fin_timeout = read_long("/proc/sys/net/ipv4/tcp_fin_timeout");
	f->max_orphans = read_long("/proc/sys/net/ipv4/tcp_max_orphans");
	f->max_tw_buckets = read_long("/proc/sys/net/ipv4/tcp_max_tw_buckets");
	f->inuse = f->orphans = f->tw = -1;
	s = fopen("/proc/thread-self/net/sockstat", "re");
	if (s) {
		while (fgets(line, sizeof(line), s))
			if (sscanf(line, "TCP: inuse %ld orphan %ld tw %ld", &f->inuse, &f->orphans, &f->tw) == 3)
				break;
		fclose(s);
	}
	f->destroy = sock_destroy_supported();
	return 0;
}

static int advice(const struct ns_facts *f, __u32 held, __u32 orphaned, const char *out[], int max)
{
	static char buf[4][320];
	int n = 0;

	if (held && n < max) {
		snprintf(buf[n], sizeof(buf[n]), "%u held FIN_WAIT_2 socket(s): their applications called "
			 "shutdown() and keep the fd; no kernel timeout applies (tcp_fin_timeout does not). "
			 "Fix the application, or reap them with finwatch --reap-after (sends RST: the peer "
			 "may lose unread data).", held);
		out[n] = buf[n];
		n++;
	}
	if (orphaned && n < max) {
		snprintf(buf[n], sizeof(buf[n]), "%u orphaned FIN_WAIT_2 socket(s) end after "
			 "net.ipv4.tcp_fin_timeout=%lds; lowering it frees them sooner (each holds a "
			 "timewait slot, counted against tcp_max_tw_buckets=%ld).", orphaned, f->fin_timeout,
			 f->max_tw_buckets);
		out[n] = buf[n];
		n++;
	}
	if (f->max_tw_buckets > 0 && f->tw >= 0 && f->tw * 10 >= f->max_tw_buckets * 9 && n < max) {
		snprintf(buf[n], sizeof(buf[n]), "timewait sockets (%ld) are near tcp_max_tw_buckets (%ld): "
			 "the kernel then skips TIME_WAIT and FIN_WAIT_2 timewait states.", f->tw, f->max_tw_buckets);
		out[n] = buf[n];
		n++;
	}
	if (f->destroy == 0 && n < max) {
		snprintf(buf[n], sizeof(buf[n]), "this kernel cannot destroy sockets "
			 "(CONFIG_INET_DIAG_DESTROY is off): reaping and ss -K will not work.");
		out[n] = buf[n];
		n++;
	}
	return n;
}

/* -1 means "could not be read": say so rather than print a fake number. */
static const char *num(long v, char *buf)
{
	if (v < 0)
		return "unknown";
	snprintf(buf, 24, "%ld", v);
	return buf;
}

static void num_field(struct json_writer *jw, const char *name, long v)
{
	if (v < 0)
		jw_null_field(jw, name);
	else
		jw_int_field(jw, name, v);
}

/* One namespace's facts, FIN_WAIT_2 counts and advice. */
struct ns_report {
	__u32 inum;
	const char *path;
	struct ns_facts f;
	__u32 held, orphaned;
	const char *adv[4];
	int na;
};

static void print_ns_json(struct json_writer *jw, const struct ns_report *r, const struct fw2_tracker *t,
			  const struct fw2_peer **peers, int np, __u64 now)
{
	const struct ns_facts *f = &r->f;
	char ps[80];
	int shown = 0;

	json_record_begin(jw, "doctor", now);
	jw_uint_field(jw, "netns", r->inum);
	jw_string_field(jw, "seen_via", r->path);
	jw_uint_field(jw, "fin_wait2", r->held + r->orphaned);
	jw_uint_field(jw, "held", r->held);
	jw_uint_field(jw, "orphaned", r->orphaned);
	jw_name(jw, "peers");
	jw_start_array(jw);
	for (int k = 0; k < np && shown < DOCTOR_TOP; k++) {
		if (peers[k]->netns != r->inum)
			continue;
		shown++;
		jw_start_object(jw);
		jw_string_field(jw, "peer", fw2_peer_str(peers[k], ps, sizeof(ps)));
		jw_uint_field(jw, "held", peers[k]->held);
		jw_uint_field(jw, "orphaned", peers[k]->orphaned);
		jw_double_field(jw, "oldest_age_s", (double)fw2_peer_oldest_age(t, peers[k], now, NULL) / 1e9);
		jw_end_object(jw);
	}
	jw_end_array(jw);
	num_field(jw, "tcp_fin_timeout", f->fin_timeout);
	num_field(jw, "tcp_max_orphans", f->max_orphans);
	num_field(jw, "orphans", f->orphans);
	num_field(jw, "tcp_max_tw_buckets", f->max_tw_buckets);
	num_field(jw, "timewait", f->tw);
	num_field(jw, "tcp_inuse", f->inuse);
	jw_string_field(jw, "sock_destroy", f->destroy == 1 ? "supported" :
					    f->destroy == 0 ? "unsupported" : "unknown");
	jw_name(jw, "advice");
	jw_start_array(jw);
	for (int k = 0; k < r->na; k++)
		jw_string(jw, r->adv[k]);
	jw_end_array(jw);
	jw_end_object(jw);
	jw_end_line(jw);
}

static void print_ns_text(const struct ns_report *r, const struct fw2_tracker *t,
			  const struct fw2_peer **peers, int np, __u64 now)
{
	const struct ns_facts *f = &r->f;
	char b[6][24], ps[80], age[32];
	int shown = 0;

	printf("\nnetns %u (%s)\n", r->inum, r->path);
	printf("  FIN_WAIT_2: %u (held %u, orphaned %u)\n", r->held + r->orphaned, r->held, r->orphaned);
	for (int k = 0; k < np && shown < DOCTOR_TOP; k++) {
		int lb;

		if (peers[k]->netns != r->inum)
			continue;
		shown++;
		format_duration(age, sizeof(age), fw2_peer_oldest_age(t, peers[k], now, &lb));
		printf("    %-40s held %-6u orphaned %-6u oldest %s%s\n", fw2_peer_str(peers[k], ps, sizeof(ps)),
		       peers[k]->held, peers[k]->orphaned, lb ? ">=" : "", age);
	}
	printf("  tcp_fin_timeout %ss; tcp_max_orphans %s (orphans now %s, host-wide); "
	       "tcp_max_tw_buckets %s (timewait now %s); TCP sockets in use %s\n",
	       num(f->fin_timeout, b[0]), num(f->max_orphans, b[1]), num(f->orphans, b[2]),
	       num(f->max_tw_buckets, b[3]), num(f->tw, b[4]), num(f->inuse, b[5]));
	printf("  socket destroy (reaping, ss -K): %s\n", f->destroy == 1 ? "supported" :
	       f->destroy == 0 ? "NOT supported (CONFIG_INET_DIAG_DESTROY off)" : "unknown");
	for (int k = 0; k < r->na; k++)
		printf("  advice: %s\n", r->adv[k]);
}

int doctor_run(const struct fw_config *cfg, struct fw_scanner *sc, const struct fw2_tracker *t,
	       struct json_writer *jw, __u64 now)
{
	const struct fw2_peer **peers;
	int np, nn = sc->nsset.n;
	__u32 *inums = malloc((size_t)(nn ? nn : 1) * sizeof(*inums));
	char (*paths)[64] = malloc((size_t)(nn ? nn : 1) * sizeof(*paths));

	if (!inums || !paths) {
		free(inums);
		free(paths);
		return -ENOMEM;
	}
	for (int i = 0; i < nn; i++) {
		inums[i] = sc->nsset.refs[i].inum;
		memcpy(paths[i], sc->nsset.refs[i].path, sizeof(paths[i]));
	}
	long max_orphans = read_long("/proc/sys/net/ipv4/tcp_max_orphans");

	peers = malloc(4096 * sizeof(*peers));
	np = peers ? fw2_top_peers(t, peers, 4096, 0) : 0;
	if (!cfg->json)
		printf("finwatch doctor: %d network namespace(s)\n", nn);
	for (int i = 0; i < nn; i++) {
		struct ns_report r = { .inum = inums[i], .path = paths[i] };

		if (scanner_in_netns(sc, inums[i], gather, &r.f))
			continue;   /* gone since the scan */
		/* A host-wide sysctl, visible only from the initial namespace. */
		if (r.f.max_orphans < 0)
			r.f.max_orphans = max_orphans;
		for (int k = 0; k < np; k++)
			if (peers[k]->netns == inums[i]) {
				r.held += peers[k]->held;
				r.orphaned += peers[k]->orphaned;
			}
		r.na = advice(&r.f, r.held, r.orphaned, r.adv, 4);
		if (cfg->json)
			print_ns_json(jw, &r, t, peers, np, now);
		else
			print_ns_text(&r, t, peers, np, now);
	}
	if (!cfg->json)
		printf("\nKnobs: net.ipv4.tcp_fin_timeout bounds orphaned FIN_WAIT_2 only; held sockets need "
		       "their application (or a reap). Killing a socket sends RST: the peer may lose data it "
		       "has not read.\n");
	free(peers);
	free(inums);
	free(paths);
	return 0;
}
