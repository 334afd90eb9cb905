// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cli.h"
#include "metrics.h"
#include "parse.h"
#include "workload_map.h"

/* Lifetime histogram buckets emitted: le = 2^b ms for b <= this (~4.7 h). */
#define HIST_EMIT_MAX 24

static void head(struct strbuf *sb, const char *name, const char *type, const char *help)
{
	sb_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* --metrics-labels (FW_ML_* in ml): bounded like the peers, since they name
 * the top K groups only and "other" for the rest. */
static void workload_labels(struct strbuf *sb, const struct fw2_peer *p, int ml)
{
	const struct wl_view *v = p ? wl_view_of(p->wl_key) : NULL;
	static const struct { int bit; const char *name; } names[] = {
		{ FW_ML_POD, "pod" }, { FW_ML_NAMESPACE, "namespace" }, { FW_ML_CONTAINER, "container" },
	};

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *val = !p ? "other" : !v ? ""
				  : names[i].bit == FW_ML_POD ? v->w.pod_name
				  : names[i].bit == FW_ML_NAMESPACE ? v->w.pod_namespace : v->w.container_id;

		if (!(ml & names[i].bit))
			continue;
		sb_printf(sb, ",%s=\"", names[i].name);
		sb_label_value(sb, val);
		sb_printf(sb, "\"");
	}
}

static void peer_labels(struct strbuf *sb, const struct fw2_peer *p, int ml)
{
	char ps[80];

	sb_printf(sb, "peer=\"");
	sb_label_value(sb, p ? fw2_peer_str(p, ps, sizeof(ps)) : "other");
	if (p)
		sb_printf(sb, "\",netns=\"%u\"", p->netns);
	else
		sb_printf(sb, "\",netns=\"other\"");
	if (ml)
		workload_labels(sb, p, ml);
}

/* Per-peer gauges: top K peers by count and the rest as peer="other". */
static void render_peers(struct strbuf *sb, const struct fw2_tracker *t, const struct fw2_peer **peers,
			 int n, __u64 now, int ml)
{
	__u32 held, orphaned, shown_held = 0, shown_orph = 0;

	fw2_total(t, &held, &orphaned);
	head(sb, "finwatch_fin_wait2_sockets", "gauge",
	     "TCP sockets in FIN_WAIT_2 now per peer; kind=held (fd kept, no kernel timeout) or "
	     "orphaned (closed, ends after tcp_fin_timeout); peer=\"other\" folds peers beyond the top K.");
	for (int i = 0; i < n; i++) {
		for (int k = 0; k < 2; k++) {
			sb_printf(sb, "finwatch_fin_wait2_sockets{");
			peer_labels(sb, peers[i], ml);
			sb_printf(sb, ",kind=\"%s\"} %u\n", k ? "orphaned" : "held",
				  k ? peers[i]->orphaned : peers[i]->held);
		}
		shown_held += peers[i]->held;
		shown_orph += peers[i]->orphaned;
	}
	for (int k = 0; k < 2; k++) {
		sb_printf(sb, "finwatch_fin_wait2_sockets{");
		peer_labels(sb, NULL, ml);
		sb_printf(sb, ",kind=\"%s\"} %u\n", k ? "orphaned" : "held",
			  k ? orphaned - shown_orph : held - shown_held);
	}

	head(sb, "finwatch_fin_wait2_host_sockets", "gauge",
	     "TCP sockets in FIN_WAIT_2 now on this host, after finwatch's filters.");
	sb_printf(sb, "finwatch_fin_wait2_host_sockets{kind=\"held\"} %u\n", held);
	sb_printf(sb, "finwatch_fin_wait2_host_sockets{kind=\"orphaned\"} %u\n", orphaned);

	head(sb, "finwatch_handoffs_unconfirmed", "gauge",
	     "Orphans handed to a timewait socket that no scan has looked at yet; most got the peer's "
	     "FIN a round trip later. Not in the FIN_WAIT_2 gauges until a scan sees them still there.");
	sb_printf(sb, "finwatch_handoffs_unconfirmed %u\n", fw2_unconfirmed_handoffs(t));

	head(sb, "finwatch_fin_wait2_oldest_age_seconds", "gauge",
	     "Age of the peer's oldest FIN_WAIT_2 socket (a lower bound for sockets older than finwatch).");
	for (int i = 0; i < n; i++) {
		sb_printf(sb, "finwatch_fin_wait2_oldest_age_seconds{");
		peer_labels(sb, peers[i], ml);
		sb_printf(sb, "} %.3f\n", (double)fw2_peer_oldest_age(t, peers[i], now, NULL) / 1e9);
	}
}

static void render_lifetimes(struct strbuf *sb, const struct fw2_counters *c)
{
	__u64 cum = 0;

	head(sb, "finwatch_fin_wait2_lifetime_seconds", "histogram",
	     "Time sockets spent in FIN_WAIT_2, counted when they left it.");
	for (int b = 0; b <= HIST_EMIT_MAX; b++) {
		cum += c->hist[b];
		sb_printf(sb, "finwatch_fin_wait2_lifetime_seconds_bucket{le=\"%.3f\"} %llu\n",
			  (double)(1ULL << b) / 1000.0, (unsigned long long)cum);
	}
	sb_printf(sb, "finwatch_fin_wait2_lifetime_seconds_bucket{le=\"+Inf\"} %llu\n",
		  (unsigned long long)c->exits);
	sb_printf(sb, "finwatch_fin_wait2_lifetime_seconds_sum %.6f\n", (double)c->lifetime_sum_ns / 1e9);
	sb_printf(sb, "finwatch_fin_wait2_lifetime_seconds_count %llu\n", (unsigned long long)c->exits);

	head(sb, "finwatch_fin_wait2_exits_total", "counter",
	     "Sockets that left FIN_WAIT_2, by how: peer_fin, rst, timeout (tcp_fin_timeout), killed, other.");
	for (int o = 0; o < FW2_OUT_MAX; o++)
		sb_printf(sb, "finwatch_fin_wait2_exits_total{outcome=\"%s\"} %llu\n", fw2_outcome_name(o),
			  (unsigned long long)c->outcomes[o]);
}

/* What the kernel side and finwatch itself did and cost. */
static void render_run(struct strbuf *sb, const struct fw_run_stats *st)
{
	head(sb, "finwatch_events_total", "counter", "Events the BPF program submitted to the ring buffer.");
	sb_printf(sb, "finwatch_events_total %llu\n", (unsigned long long)st->events);
	head(sb, "finwatch_events_lost_total", "counter",
	     "Events dropped because the ring buffer was full (raise --ringbuf-size).");
	sb_printf(sb, "finwatch_events_lost_total %llu\n", (unsigned long long)st->lost);
	head(sb, "finwatch_recursion_misses_total", "counter",
	     "Tracepoint hits the kernel did not run a copy of finwatch's program for (it was already running "
	     "on that CPU); two copies run, an event is lost only if both skipped it.");
	sb_printf(sb, "finwatch_recursion_misses_total{copy=\"main\"} %llu\n",
		  (unsigned long long)st->recursion_misses);
	sb_printf(sb, "finwatch_recursion_misses_total{copy=\"backup\"} %llu\n",
		  (unsigned long long)st->recursion_misses_backup);

	head(sb, "process_cpu_seconds_total", "counter",
	     "CPU finwatch's process used, user and system (the kernel's socket walks for its scans included).");
	sb_printf(sb, "process_cpu_seconds_total %.3f\n", (double)st->cpu_ns / 1e9);
	head(sb, "process_resident_memory_bytes", "gauge", "finwatch's resident memory.");
	sb_printf(sb, "process_resident_memory_bytes %llu\n", (unsigned long long)st->rss_bytes);
	head(sb, "finwatch_scans_total", "counter",
	     "iter/tcp walks of a network namespace (follow-ups, discovery, reconciliation).");
	sb_printf(sb, "finwatch_scans_total %llu\n", (unsigned long long)st->scans);
	head(sb, "finwatch_scan_cpu_seconds_total", "counter", "CPU those walks used.");
	sb_printf(sb, "finwatch_scan_cpu_seconds_total %.3f\n", (double)st->scan_cpu_ns / 1e9);
}

static void render_alerts(struct strbuf *sb, const struct fw2_tracker *t, const struct fw2_peer **peers,
			  int n, int ml)
{
	const struct fw2_counters *c = fw2_counters(t);

	head(sb, "finwatch_alerts_firing", "gauge", "Alerts firing now, by rule and peer.");
	for (int i = 0; i < n; i++)
		for (int r = 0; r < FW2_RULE_MAX; r++)
			if (peers[i]->alert_firing & (1u << r)) {
				sb_printf(sb, "finwatch_alerts_firing{rule=\"%s\",", fw2_rule_name(r));
				peer_labels(sb, peers[i], ml);
				sb_printf(sb, "} 1\n");
			}
	sb_printf(sb, "finwatch_alerts_firing{rule=\"max_total\",peer=\"*\",netns=\"*\"} %d\n",
		  fw2_total_firing(t));
	head(sb, "finwatch_alerts_fired_total", "counter", "Alerts that started firing, by rule.");
	for (int r = 0; r < FW2_RULE_MAX; r++)
		sb_printf(sb, "finwatch_alerts_fired_total{rule=\"%s\"} %llu\n", fw2_rule_name(r),
			  (unsigned long long)c->fired_by_rule[r]);
}

int metrics_render(struct strbuf *sb, const struct fw2_tracker *t, const struct fw_run_stats *st,
		   int top_k, __u64 now, __u64 reaped_ok, __u64 reaped_failed, int ml)
{
	const struct fw2_peer **peers;
	int n;

	if (top_k < 1)
		top_k = 1;
	peers = malloc((size_t)top_k * sizeof(*peers));
	if (!peers)
		return -ENOMEM;
	n = fw2_top_peers(t, peers, top_k, 1);
	sb_reset(sb);
	render_peers(sb, t, peers, n, now, ml);
	render_lifetimes(sb, fw2_counters(t));
	render_run(sb, st);
	render_alerts(sb, t, peers, n, ml);
	head(sb, "finwatch_reaped_total", "counter", "FIN_WAIT_2 sockets finwatch destroyed, by result.");
	sb_printf(sb, "finwatch_reaped_total{result=\"ok\"} %llu\n", (unsigned long long)reaped_ok);
	sb_printf(sb, "finwatch_reaped_total{result=\"failed\"} %llu\n", (unsigned long long)reaped_failed);

	head(sb, "finwatch_build_info", "gauge", "finwatch version.");
	sb_printf(sb, "finwatch_build_info{version=\"%s\"} 1\n", FW_VERSION);
	free(peers);
	return sb->oom ? -ENOMEM : 0;
}

int metrics_write_file(const char *path, const struct strbuf *sb)
{
	char tmp[4096];
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < sb->len;) {
		ssize_t w = write(fd, sb->buf + off, sb->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			err = -errno;
			break;
		}
		off += (size_t)w;
	}
	/* The textfile collector runs as another user: readable whatever
	 * the umask (a unit's UMask=0027 would make it 0640). */
	if (!err && fchmod(fd, 0644))
		err = -errno;
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}
