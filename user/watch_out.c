// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include "parse.h"
#include "trace_fmt.h"
#include "watch_out.h"
#include "workload_map.h"

#define MAX_TOP 1000

static void age_text(char *buf, size_t len, __u64 ns, int lower_bound)
{
	char d[32];

	format_duration(d, sizeof(d), ns);
	snprintf(buf, len, "%s%s", lower_bound ? ">=" : "", d);
}

const char *fw2_alert_advice(const struct fw2_alert *a, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	if (!a->firing)
		return buf;
	if (a->held) {
		char comm[FW_COMM_LEN + 1] = "";

		char wl[300] = "", in[320] = "";

		/* The workload holding the most: whose bug it is, on a node. */
		if (a->n_cgroups && wl_text_label(a->cgroups[0].id, wl, sizeof(wl))[0])
			snprintf(in, sizeof(in), " in %s", wl);
		if (a->n_procs) {
			text_comm(comm, sizeof(comm), a->procs[0].comm);
			off += snprintf(buf + off, len - off,
					"process %s (pid %u)%s holds %u half-closed socket%s; tcp_fin_timeout does "
					"not apply to held sockets: the application must close() them (or reap "
					"them with finwatch, which resets the peer). ",
					comm, a->procs[0].pid, in, a->procs[0].count, a->procs[0].count == 1 ? "" : "s");
		} else {
			off += snprintf(buf + off, len - off,
					"%u held socket%s%s (shutdown() and fd kept): tcp_fin_timeout does not apply "
					"to held sockets; the owning application must close() them. ",
					a->held, a->held == 1 ? "" : "s", in);
		}
	}
	if (a->orphaned && off < len) {
		if (a->fin_timeout_s >= 0)
			off += snprintf(buf + off, len - off,
					"%u orphaned socket(s) will be freed by the kernel after "
					"net.ipv4.tcp_fin_timeout=%ds of this netns; lower it to free them sooner. ",
					a->orphaned, a->fin_timeout_s);
		else
			off += snprintf(buf + off, len - off,
					"%u orphaned socket(s) end after net.ipv4.tcp_fin_timeout of their netns. ",
					a->orphaned);
	}
	if (off < len)
		snprintf(buf + off, len - off, "The peer ACKs our FIN but never sends its own: check it "
			 "is alive and not overloaded.");
	return buf;
}

void out_exit_json(struct json_writer *jw, const struct fw2_exit *x)
{
	char peer[80];

	json_record_begin(jw, "fw2_exit", x->exit_ns);
	jw_string_field(jw, "peer", fw2_peer_str(x->peer, peer, sizeof(peer)));
	jw_uint_field(jw, "netns", x->peer->netns);
	jw_uint_field(jw, "sport", x->sport);
	jw_uint_field(jw, "dport", x->dport);
	jw_fixed3_field(jw, "duration_ms", x->duration_ns, 1000000);
	jw_bool_field(jw, "duration_lower_bound", x->duration_lower_bound);
	jw_string_field(jw, "outcome", fw2_outcome_name(x->outcome));
	jw_bool_field(jw, "orphaned", x->orphaned);
	json_holder_fields(jw, x->pid, x->comm);
	wl_json_field(jw, "workload", x->cgroup_id);
	jw_uint_field(jw, "cookie", x->cookie);
	jw_end_object(jw);
}

void out_alert_json(struct json_writer *jw, const struct fw2_alert *a)
{
	char peer[80], advice[768];

	json_record_begin(jw, "alert", a->now_ns);
	jw_string_field(jw, "rule", fw2_rule_name(a->rule));
	jw_string_field(jw, "state", a->firing ? "firing" : "resolved");
	if (a->peer) {
		jw_string_field(jw, "peer", fw2_peer_str(a->peer, peer, sizeof(peer)));
		jw_uint_field(jw, "netns", a->peer->netns);
	} else {
		jw_string_field(jw, "peer", "*");
		jw_null_field(jw, "netns");
	}
	jw_uint_field(jw, "count", a->count);
	jw_uint_field(jw, "held", a->held);
	jw_uint_field(jw, "orphaned", a->orphaned);
	jw_double_field(jw, "oldest_age_s", (double)a->oldest_age_ns / 1e9);
	if (a->rule == FW2_RULE_MAX_AGE)
		jw_double_field(jw, "threshold", (double)a->threshold / 1e9);
	else
		jw_uint_field(jw, "threshold", a->threshold);
	if (a->fin_timeout_s >= 0)
		jw_int_field(jw, "tcp_fin_timeout", a->fin_timeout_s);
	jw_name(jw, "examples");
	jw_start_array(jw);
	for (int i = 0; i < a->n_examples; i++) {
		jw_start_object(jw);
		jw_uint_field(jw, "cookie", a->examples[i].cookie);
		jw_uint_field(jw, "sport", a->examples[i].sport);
		jw_uint_field(jw, "dport", a->examples[i].dport);
		jw_double_field(jw, "age_s", (double)a->examples[i].age_ns / 1e9);
		jw_bool_field(jw, "orphaned", a->examples[i].orphaned);
		jw_end_object(jw);
	}
	jw_end_array(jw);
	jw_name(jw, "processes");
	jw_start_array(jw);
	for (int i = 0; i < a->n_procs; i++) {
		jw_start_object(jw);
		jw_uint_field(jw, "pid", a->procs[i].pid);
		json_comm_field(jw, "comm", a->procs[i].comm);
		jw_uint_field(jw, "sockets", a->procs[i].count);
		jw_end_object(jw);
	}
	jw_end_array(jw);
	if (wl_active()) {
		jw_name(jw, "workloads");
		jw_start_array(jw);
		for (int i = 0; i < a->n_cgroups; i++) {
			jw_start_object(jw);
			wl_json_field(jw, "workload", a->cgroups[i].id);
			jw_uint_field(jw, "sockets", a->cgroups[i].count);
			jw_end_object(jw);
		}
		jw_end_array(jw);
	}
	jw_string_field(jw, "advice", fw2_alert_advice(a, advice, sizeof(advice)));
	jw_end_object(jw);
}

void out_alert_text(FILE *out, const struct fw2_alert *a)
{
	char peer[80] = "*", age[40], advice[768], comm[FW_COMM_LEN + 1];

	if (a->peer)
		fw2_peer_str(a->peer, peer, sizeof(peer));
	age_text(age, sizeof(age), a->oldest_age_ns, 0);
	fprintf(out, "%s %s peer=%s", a->firing ? "ALERT" : "RESOLVED", fw2_rule_name(a->rule), peer);
	if (a->peer)
		fprintf(out, " netns=%u", a->peer->netns);
	fprintf(out, " count=%u (held %u, orphaned %u) oldest=%s", a->count, a->held, a->orphaned, age);
	if (a->n_procs) {
		fputs(" procs=", out);
		for (int i = 0; i < a->n_procs; i++) {
			text_comm(comm, sizeof(comm), a->procs[i].comm);
			fprintf(out, "%s%s[%u]x%u", i ? "," : "", comm, a->procs[i].pid, a->procs[i].count);
		}
	}
	for (int i = 0, shown = 0; i < a->n_cgroups; i++) {
		char wl[300];

		if (!wl_text_label(a->cgroups[i].id, wl, sizeof(wl))[0])
			continue;
		fprintf(out, "%s%s(%u)", shown++ ? "," : " workloads=", wl, a->cgroups[i].count);
	}
	if (a->n_examples) {
		fputs(" e.g. sport", out);
		for (int i = 0; i < a->n_examples; i++)
			fprintf(out, "%s%u", i ? "," : "=", a->examples[i].sport);
	}
	fputc('\n', out);
	if (a->firing)
		fprintf(out, "  advice: %s\n", fw2_alert_advice(a, advice, sizeof(advice)));
}

void out_counters_json(struct json_writer *jw, const struct fw_run_stats *st)
{
	jw_uint_field(jw, "transitions", st->transitions);
	jw_uint_field(jw, "events", st->events);
	jw_uint_field(jw, "received", st->received);
	jw_uint_field(jw, "lost", st->lost);
	jw_uint_field(jw, "recursion_misses", st->recursion_misses);
	jw_uint_field(jw, "recursion_misses_backup", st->recursion_misses_backup);
	jw_uint_field(jw, "storage_failures", st->storage_failures);
	jw_uint_field(jw, "handoff_map_full", st->handoff_map_full);
	jw_uint_field(jw, "closer_misses", st->closer_misses);
	jw_uint_field(jw, "age_misses", st->age_misses);
	jw_uint_field(jw, "handled_overwrites", st->handled_overwrites);
	jw_uint_field(jw, "malformed", st->malformed);
	jw_uint_field(jw, "print_errors", st->print_errors);
	jw_double_field(jw, "cpu_s", (double)st->cpu_ns / 1e9);
	jw_double_field(jw, "scan_cpu_s", (double)st->scan_cpu_ns / 1e9);
	jw_uint_field(jw, "rss_bytes", st->rss_bytes);
}

void out_summary_json(struct json_writer *jw, const struct fw2_tracker *t, __u64 now, int top,
		      const struct fw_run_stats *st, int final)
{
	const struct fw2_peer *peers[MAX_TOP];
	const struct fw2_counters *c = fw2_counters(t);
	__u32 held, orphaned, total = fw2_total(t, &held, &orphaned);
	int n = fw2_top_peers(t, peers, top < MAX_TOP ? top : MAX_TOP, 1);
	char ps[80];

	json_record_begin(jw, "summary", now);
	jw_bool_field(jw, "final", final);
	jw_uint_field(jw, "count", total);
	jw_uint_field(jw, "held", held);
	jw_uint_field(jw, "orphaned", orphaned);
	jw_uint_field(jw, "unconfirmed_handoffs", fw2_unconfirmed_handoffs(t));
	jw_name(jw, "peers");
	jw_start_array(jw);
	for (int i = 0; i < n; i++) {
		const struct fw2_peer *p = peers[i];
		int lb;
		__u64 age = fw2_peer_oldest_age(t, p, now, &lb);

		jw_start_object(jw);
		jw_string_field(jw, "peer", fw2_peer_str(p, ps, sizeof(ps)));
		jw_uint_field(jw, "netns", p->netns);
		jw_uint_field(jw, "count", p->held + p->orphaned);
		jw_uint_field(jw, "held", p->held);
		jw_uint_field(jw, "orphaned", p->orphaned);
		jw_double_field(jw, "oldest_age_s", (double)age / 1e9);
		jw_bool_field(jw, "oldest_age_lower_bound", lb);
		if (fw2_group_workload(t))
			wl_json_field(jw, "workload", p->wl_key);
		jw_uint_field(jw, "entered", p->entered);
		jw_uint_field(jw, "exited", p->exited);
		jw_name(jw, "outcomes");
		jw_start_object(jw);
		for (int o = 0; o < FW2_OUT_MAX; o++)
			jw_uint_field(jw, fw2_outcome_name(o), p->outcomes[o]);
		jw_end_object(jw);
		jw_end_object(jw);
	}
	jw_end_array(jw);
	out_counters_json(jw, st);
	jw_uint_field(jw, "untracked_exits", c->untracked_exits);
	jw_uint_field(jw, "discovered", c->discovered);
	jw_uint_field(jw, "reconciled_missing", c->reconciled_missing);
	jw_uint_field(jw, "handoffs", c->handoffs);
	jw_uint_field(jw, "capacity_drops", c->capacity_drops);
	jw_uint_field(jw, "alerts_fired", c->alerts_fired);
	jw_uint_field(jw, "scans", st->scans);
	jw_end_object(jw);
}

void out_table_text(FILE *out, const struct fw2_tracker *t, __u64 now, int top,
		    const struct fw_run_stats *st)
{
	const struct fw2_peer *peers[MAX_TOP];
	__u32 held, orphaned, total = fw2_total(t, &held, &orphaned);
	int n = fw2_top_peers(t, peers, top < MAX_TOP ? top : MAX_TOP, 0);
	char ps[80], age[40];

	fprintf(out, "--- FIN_WAIT_2 now: %u (held %u, orphaned %u) in %d peer%s shown; events %llu, "
		     "lost %llu, skipped %llu\n",
		total, held, orphaned, n, n == 1 ? "" : "s", (unsigned long long)st->events,
		(unsigned long long)st->lost, (unsigned long long)st->recursion_misses);
	if (!n)
		return;
	int wl = fw2_group_workload(t) && wl_active();

	fprintf(out, "%-40s %-10s %7s %6s %8s %10s %9s %9s%s\n", "PEER", "NETNS", "COUNT", "HELD",
		"ORPHANED", "OLDEST", "ENTERED", "EXITED", wl ? "  WORKLOAD" : "");
	for (int i = 0; i < n; i++) {
		const struct fw2_peer *p = peers[i];
		int lb;
		__u64 a = fw2_peer_oldest_age(t, p, now, &lb);

		age_text(age, sizeof(age), a, lb);
		char label[300] = "";

		if (wl)
			wl_text_label(p->wl_key, label, sizeof(label));
		fprintf(out, "%-40s %-10u %7u %6u %8u %10s %9llu %9llu%s%s\n", fw2_peer_str(p, ps, sizeof(ps)),
			p->netns, p->held + p->orphaned, p->held, p->orphaned, age,
			(unsigned long long)p->entered, (unsigned long long)p->exited, wl ? "  " : "",
			wl ? (label[0] ? label : "-") : "");
	}
}

static void print_stars(FILE *out, __u64 v, __u64 max, int width)
{
	int n = max ? (int)((v * (__u64)width + max - 1) / max) : 0;

	for (int i = 0; i < width; i++)
		fputc(i < n ? '*' : ' ', out);
}

void out_histograms_text(FILE *out, const struct fw2_tracker *t, int top)
{
	const struct fw2_peer *peers[MAX_TOP];
	int n = fw2_top_peers(t, peers, top < MAX_TOP ? top : MAX_TOP, 1);
	char ps[80];

	for (int i = 0; i < n; i++) {
		const struct fw2_peer *p = peers[i];
		int lo, hi;
		__u64 max;

		if (!fw2_hist_span(p->hist, &lo, &hi, &max))
			continue;
		fprintf(out, "\nFIN_WAIT_2 lifetime, peer %s netns %u (exits: peer_fin %llu, rst %llu, "
			     "timeout %llu, killed %llu, other %llu)\n",
			fw2_peer_str(p, ps, sizeof(ps)), p->netns,
			(unsigned long long)p->outcomes[FW2_OUT_PEER_FIN],
			(unsigned long long)p->outcomes[FW2_OUT_RST],
			(unsigned long long)p->outcomes[FW2_OUT_TIMEOUT],
			(unsigned long long)p->outcomes[FW2_OUT_KILLED],
			(unsigned long long)p->outcomes[FW2_OUT_OTHER]);
		fprintf(out, "%24s : %-8s |%-40s|\n", "msecs", "count", "distribution");
		for (int b = lo; b <= hi; b++) {
			unsigned long long low, high;

			fw2_hist_bounds(b, &low, &high);
			fprintf(out, "%10llu -> %-10llu : %-8llu |", low, high, (unsigned long long)p->hist[b]);
			print_stars(out, p->hist[b], max, 40);
			fputs("|\n", out);
		}
	}
}

void out_reaped_json(struct json_writer *jw, const struct fw2_candidate *c, const char *result, int err,
		     __u64 ts_ns)
{
	char peer[80];

	json_record_begin(jw, "reaped", ts_ns);
	jw_string_field(jw, "peer", fw2_peer_str(c->peer, peer, sizeof(peer)));
	jw_uint_field(jw, "netns", c->netns);
	json_socket_fields(jw, c->family, c->saddr, c->sport, c->daddr, c->dport);
	jw_uint_field(jw, "cookie", c->cookie);
	jw_double_field(jw, "age_s", (double)c->age_ns / 1e9);
	jw_string_field(jw, "kind", c->orphaned ? "orphaned" : "held");
	jw_bool_field(jw, "timewait", c->timewait);
	json_holder_fields(jw, c->pid, c->pid ? c->comm : NULL);
	wl_json_field(jw, "workload", c->cgroup_id);
	jw_string_field(jw, "result", result);
	if (err)
		jw_string_field(jw, "error", strerror(-err));
	jw_end_object(jw);
}

void out_reaped_text(FILE *out, const struct fw2_candidate *c, const char *result, int err)
{
	char peer[80], sa[48], da[48], comm[FW_COMM_LEN + 1] = "-";

	fw2_peer_str(c->peer, peer, sizeof(peer));
	format_addr(c->family, c->saddr, sa, sizeof(sa));
	format_addr(c->family, c->daddr, da, sizeof(da));
	if (c->pid)
		text_comm(comm, sizeof(comm), c->comm);
	char wl[300];

	wl_text_label(c->cgroup_id, wl, sizeof(wl));
	fprintf(out, "REAPED%s %s:%u -> %s:%u peer=%s netns=%u age=%.1fs kind=%s holder=%s[%u]%s%s result=%s%s%s\n",
		strcmp(result, "dry_run") ? "" : " (dry run, not destroyed)",
		sa, c->sport, da, c->dport, peer, c->netns, (double)c->age_ns / 1e9,
		c->orphaned ? "orphaned" : "held", comm, c->pid, wl[0] ? " workload=" : "", wl, result,
		err ? ": " : "", err ? strerror(-err) : "");
}

void out_reconcile_json(struct json_writer *jw, __u64 found, __u64 missing, __u64 ts_ns)
{
	json_record_begin(jw, "reconcile", ts_ns);
	jw_uint_field(jw, "found", found);
	jw_uint_field(jw, "missing", missing);
	jw_end_object(jw);
}

void out_reconcile_text(FILE *out, __u64 found, __u64 missing)
{
	fprintf(out, "RECONCILE: a full scan found %llu FIN_WAIT_2 socket(s) no event "
		"announced and %llu tracked socket(s) already gone (events were missed; see "
		"lost/skipped)\n", (unsigned long long)found, (unsigned long long)missing);
}

void out_start_json(struct json_writer *jw, const char *command, const struct fw2_tracker *t,
		    __u64 ts_ns)
{
	json_record_begin(jw, "start", ts_ns);
	jw_string_field(jw, "command", command);
	if (t)
		jw_uint_field(jw, "discovered", fw2_counters(t)->discovered);
	jw_end_object(jw);
}

void out_trace_summary_json(struct json_writer *jw, const struct fw_run_stats *st, __u64 ts_ns)
{
	json_record_begin(jw, "summary", ts_ns);
	jw_bool_field(jw, "final", 1);
	out_counters_json(jw, st);
	jw_end_object(jw);
}

void out_error_json(struct json_writer *jw, const char *what, __u64 ts_ns)
{
	json_record_begin(jw, "error", ts_ns);
	jw_string_field(jw, "error", what);
	jw_end_object(jw);
}

__u32 out_leaked(const struct fw2_tracker *t, __u32 *held, __u32 *orphaned)
{
	__u32 total = fw2_total(t, held, orphaned);
	__u32 pending = fw2_unconfirmed_handoffs(t);

	/* A handoff no scan confirmed yet is still an orphan in the kernel. */
	*orphaned += pending;
	return total + pending;
}

void out_verdict_json(struct json_writer *jw, const struct fw_verdict *v, const struct fw2_tracker *t,
		      __u64 now)
{
	const struct fw2_peer *peers[MAX_TOP];
	__u32 held, orphaned, leaked = out_leaked(t, &held, &orphaned);
	int n = fw2_top_peers(t, peers, MAX_TOP, 0);
	char ps[80];

	json_record_begin(jw, "verdict", now);
	jw_string_field(jw, "command", v->command);
	jw_int_field(jw, "pid", v->pid);
	jw_int_field(jw, "exit_code", v->exit_code);
	jw_string_field(jw, "scope", v->scope);
	if (v->cgroup)
		jw_string_field(jw, "cgroup", v->cgroup);
	else
		jw_null_field(jw, "cgroup");
	if (v->netns)
		jw_uint_field(jw, "netns", v->netns);
	else
		jw_null_field(jw, "netns");
	jw_uint_field(jw, "leaked", leaked);
	jw_uint_field(jw, "held", held);
	jw_uint_field(jw, "orphaned", orphaned);
	jw_uint_field(jw, "alerts_fired", fw2_counters(t)->alerts_fired);
	if (v->processes_left >= 0)
		jw_int_field(jw, "processes_left", v->processes_left);
	else
		jw_null_field(jw, "processes_left");
	jw_bool_field(jw, "leaks_warn", v->leaks_warn);
	jw_int_field(jw, "status", v->status);
	jw_name(jw, "leaks");
	jw_start_array(jw);
	for (int i = 0; i < n; i++) {
		int lb;
		__u64 age = fw2_peer_oldest_age(t, peers[i], now, &lb);

		jw_start_object(jw);
		jw_string_field(jw, "peer", fw2_peer_str(peers[i], ps, sizeof(ps)));
		jw_uint_field(jw, "netns", peers[i]->netns);
		jw_uint_field(jw, "count", peers[i]->held + peers[i]->orphaned);
		jw_uint_field(jw, "held", peers[i]->held);
		jw_uint_field(jw, "orphaned", peers[i]->orphaned);
		jw_double_field(jw, "oldest_age_s", (double)age / 1e9);
		jw_end_object(jw);
	}
	jw_end_array(jw);
	jw_end_object(jw);
}

void out_verdict_text(FILE *out, const struct fw_verdict *v, const struct fw2_tracker *t, __u64 now)
{
	const struct fw2_peer *peers[MAX_TOP];
	__u32 held, orphaned, leaked = out_leaked(t, &held, &orphaned);
	int n = fw2_top_peers(t, peers, MAX_TOP, 0);
	char ps[80], age[40];

	fprintf(out, "=== %s (pid %d) exited with status %d; ", v->command, v->pid, v->exit_code);
	if (!leaked)
		fprintf(out, "it left no FIN_WAIT_2 socket");
	else
		fprintf(out, "LEAK: it left %u FIN_WAIT_2 socket%s (held %u, orphaned %u)%s", leaked,
			leaked == 1 ? "" : "s", held, orphaned, v->leaks_warn ? " (warning only)" : "");
	if (fw2_counters(t)->alerts_fired)
		fprintf(out, "; %llu alert(s) fired", (unsigned long long)fw2_counters(t)->alerts_fired);
	fprintf(out, "; finwatch exits %d\n", v->status);
	if (v->processes_left > 0)
		fprintf(out, "  %d process(es) it started still run in %s\n", v->processes_left, v->cgroup);
	for (int i = 0; i < n; i++) {
		int lb;

		age_text(age, sizeof(age), fw2_peer_oldest_age(t, peers[i], now, &lb), lb);
		fprintf(out, "  peer %s netns %u: %u (held %u, orphaned %u), oldest %s\n",
			fw2_peer_str(peers[i], ps, sizeof(ps)), peers[i]->netns,
			peers[i]->held + peers[i]->orphaned, peers[i]->held, peers[i]->orphaned, age);
	}
	if (held)
		fprintf(out, "  held sockets stay until their process closes them (no kernel timeout)\n");
	if (orphaned)
		fprintf(out, "  orphaned sockets end after net.ipv4.tcp_fin_timeout; the peer never sent its FIN\n");
}
