// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * finwatch: which peers leave our TCP sockets stuck in FIN_WAIT_2.
 * One lifecycle: parse -> preflight -> open -> rodata -> load -> attach ->
 * poll; every exit after open goes through the single cleanup label.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <syslog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf_loader.h"
#include "cli.h"
#include "event.h"
#include "fw2_tracker.h"
#include "hooks.h"
#include "kernel_probe.h"
#include "json_writer.h"
#include "metrics.h"
#include "parse.h"
#include "metrics_http.h"
#include "doctor.h"
#include "reaper.h"
#include "scan.h"
#include "scan_driver.h"
#include "scope.h"
#include "sink.h"
#include "sock_owner.h"
#include "trace_fmt.h"
#include "warn.h"
#include "watch_out.h"
#include "wrapper.h"
#include "cgroup_index.h"
#include "workload_map.h"
#include "finwatch.skel.h"

#define POLL_MS 100
#define TICK_NS (250 * NS_PER_MS)

static volatile sig_atomic_t exiting, want_hist, want_reopen;
/* finwatch -- CMD: signals are CMD's; finwatch ends when CMD does. */
static volatile pid_t wrapped_pid;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	if (wrapped_pid > 0) {
		/* A terminal's ^C or ^\ reached CMD's process group already. */
		if (!(si && si->si_code == SI_KERNEL && (sig == SIGINT || sig == SIGQUIT)))
			kill(wrapped_pid, sig);
		return;
	}
	if (sig == SIGUSR1)
		want_hist = 1;
	else if (sig == SIGHUP)
		want_reopen = 1;
	else
		exiting = 1;
}

struct app {
	const struct fw_config *cfg;
	struct json_writer jw;
	struct finwatch_bpf *skel;
	struct ring_buffer *rb;
	struct fw2_tracker *tracker;
	struct fw_scanner scanner;
	int scanner_ready;
	struct scan_driver scans;     /* what to walk when (scan_driver.c) */
	__u64 t0_ns;
	struct fw_run_stats st;
	__u64 rb_malformed;           /* ring buffer records that failed decoding */
	FILE *out;                    /* --output file, or NULL for stdout */
	struct sink sink;             /* every record goes through it, whole */
	int draining;                 /* final drain after detaching */
	struct metrics_server *metrics;
	struct strbuf metrics_text;
	struct hook_runner *hooks;
	struct strbuf scratch;        /* JSON of one alert for hooks/syslog */
	struct reaper *reaper;
	struct fw_scope scope;        /* --netns, --cgroup */
	int scoped;                   /* the scope filters anything */
	struct workload_map *wl;      /* cgroup ids -> workloads; NULL without cgroup2 */
	struct wrapper wrap;          /* -- CMD */
};

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * NS_PER_SEC + (__u64)ts.tv_nsec;
}

static void setup_json_records(void)
{
	struct timespec rt, mt;
	char host[256] = "localhost";

	gethostname(host, sizeof(host) - 1);
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mt);
	json_record_setup(host, ((__s64)rt.tv_sec - mt.tv_sec) * (__s64)NS_PER_SEC +
				(rt.tv_nsec - mt.tv_nsec));
}

static int end_line(struct app *a);

/* fw_warn's JSON record (warn.c): bpftool's convention, so a pipeline sees
 * why the stream ended or degraded. */
static void warn_record(void *ctx, const char *msg)
{
	struct app *a = ctx;

	out_error_json(&a->jw, msg, mono_ns());
	end_line(a);
}

/* Appends, never truncates; 0640 so logs are not world-readable. */
static FILE *open_output(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, "a");
	if (!f) {
		close(fd);
		return NULL;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

/* SIGHUP after logrotate renamed the file: whole lines were flushed to the
 * old file, the next line goes to the new one. */
static void reopen_output(struct app *a)
{
	FILE *f;

	if (!a->out)
		return;
	f = open_output(a->cfg->output);
	if (!f) {
		fw_warn(LOG_WARNING, "reopening --output %s failed: %s; still writing to the old file",
			a->cfg->output, strerror(errno));
		return;
	}
	sink_set_fd(&a->sink, fileno(f));
	fclose(a->out);
	a->out = f;
}

/* Ends a record built in a->sink.mem (JSON or text) and writes it whole;
 * -errno when it was dropped (stdout full or gone). */
static int emit(struct app *a)
{
	int err = sink_emit_now(&a->sink);

	a->st.print_errors = a->sink.dropped;
	return err;
}

static int end_line(struct app *a)
{
	jw_end_line(&a->jw);
	return emit(a);
}

/* Records that come one per event wait for the batch: no write(2) each. */
static void emit_batched(struct app *a)
{
	sink_emit(&a->sink);
	a->st.print_errors = a->sink.dropped;
}

static void end_line_batched(struct app *a)
{
	jw_end_line(&a->jw);
	emit_batched(a);
}

static int handle_event(void *ctx, void *data, size_t len)
{
	struct app *a = ctx;
	struct fw_event e;

	if (fw_event_decode(data, len, &e)) {
		a->rb_malformed++;
		return 0;
	}
	a->st.received++;
	if (!cli_peer_allowed(a->cfg, e.family, e.daddr))
		return 0;
	if (a->scoped && !scope_socket(&a->scope, e.netns, e.cgroup_id,
				       a->tracker && fw2_tracks(a->tracker, e.cookie), mono_ns()))
		return 0;
	if (a->cfg->cmd != FW_CMD_TRACE) {
		fw2_on_event(a->tracker, &e);
	} else if (a->cfg->json) {
		trace_print_json(&a->jw, &e);
		end_line_batched(a);
	} else {
		trace_print_text(a->sink.mem, &e, a->t0_ns);
		emit_batched(a);
	}
	/* libbpf keeps calling while records arrive: under a storm a poll
	 * would never return and SIGINT would wait for the storm to end. This
	 * record is handled (libbpf consumed it); the rest wait for the
	 * final drain. */
	return exiting && !a->draining ? -EINTR : 0;
}

static void on_exit_cb(void *ctx, const struct fw2_exit *x)
{
	struct app *a = ctx;

	if (a->cfg->syslog) {
		char peer[80];

		syslog(LOG_INFO, "fw2_exit peer=%s netns=%u sport=%u dport=%u duration_ms=%.3f outcome=%s orphaned=%d",
		       fw2_peer_str(x->peer, peer, sizeof(peer)), x->peer->netns, x->sport, x->dport,
		       (double)x->duration_ns / 1e6, fw2_outcome_name(x->outcome), x->orphaned);
	}
	if (!a->cfg->json)
		return;   /* the terminal view shows tables and histograms instead */
	out_exit_json(&a->jw, x);
	end_line_batched(a);
}

/* The alert as one JSON text, for hooks and syslog. */
static const char *alert_json_text(struct app *a, const struct fw2_alert *al, size_t *len)
{
	char *buf = NULL;
	size_t sz = 0;
	FILE *m = open_memstream(&buf, &sz);
	struct json_writer jw;

	if (!m)
		return NULL;
	jw_init(&jw, m);
	out_alert_json(&jw, al);
	jw_flush(&jw);
	fclose(m);
	sb_reset(&a->scratch);
	sb_printf(&a->scratch, "%s", buf ? buf : "");
	free(buf);
	*len = a->scratch.len;
	return a->scratch.oom ? NULL : a->scratch.buf;
}

static void run_alert_hook(struct app *a, const struct fw2_alert *al, const char *json, size_t len)
{
	char env[5][128], peer[80] = "*";
	const char *envp[5];

	if (al->peer)
		fw2_peer_str(al->peer, peer, sizeof(peer));
	snprintf(env[0], sizeof(env[0]), "FINWATCH_RULE=%s", fw2_rule_name(al->rule));
	snprintf(env[1], sizeof(env[1]), "FINWATCH_STATE=%s", al->firing ? "firing" : "resolved");
	snprintf(env[2], sizeof(env[2]), "FINWATCH_PEER=%s", peer);
	snprintf(env[3], sizeof(env[3]), "FINWATCH_NETNS=%u", al->peer ? al->peer->netns : 0);
	snprintf(env[4], sizeof(env[4]), "FINWATCH_COUNT=%u", al->count);
	for (int i = 0; i < 5; i++)
		envp[i] = env[i];
	if (hook_submit(a->hooks, json, len, envp, 5, mono_ns()))
		fw_warn(LOG_WARNING, "--on-alert queue full; alert %s %s for %s not delivered to the hook",
			fw2_rule_name(al->rule), al->firing ? "firing" : "resolved", peer);
}

static void on_alert_cb(void *ctx, const struct fw2_alert *al)
{
	struct app *a = ctx;

	if (a->hooks || a->cfg->syslog) {
		size_t len = 0;
		const char *json = alert_json_text(a, al, &len);

		if (json && a->hooks)
			run_alert_hook(a, al, json, len);
		if (json && a->cfg->syslog)
			syslog(al->firing ? LOG_WARNING : LOG_NOTICE, "%s", json);
	}
	if (a->cfg->json)
		out_alert_json(&a->jw, al);
	else
		out_alert_text(a->sink.mem, al);
	/* Alerts must reach someone even when stdout is stuck. */
	if ((a->cfg->json ? end_line(a) : emit(a)) != 0)
		out_alert_text(stderr, al);
}

static void follow_cb(void *ctx, __u64 cookie)
{
	struct app *a = ctx;
	__u64 now = mono_ns();

	bpf_map_update_elem(bpf_map__fd(a->skel->maps.handoffs), &cookie, &now, BPF_ANY);
}

static void unfollow_cb(void *ctx, __u64 cookie)
{
	struct app *a = ctx;

	bpf_map_delete_elem(bpf_map__fd(a->skel->maps.handoffs), &cookie);
}

static void refresh_stats(struct app *a);

/* Every reap attempt is an event: JSON, a text line, syslog. */
static void on_reaped(void *ctx, const struct fw2_candidate *c, const char *result, int err)
{
	struct app *a = ctx;

	if (a->cfg->json) {
		out_reaped_json(&a->jw, c, result, err, mono_ns());
		end_line(a);
	} else {
		out_reaped_text(a->sink.mem, c, result, err);
		emit(a);
	}
	if (a->cfg->syslog) {
		char sa[48], da[48];

		format_addr(c->family, c->saddr, sa, sizeof(sa));
		format_addr(c->family, c->daddr, da, sizeof(da));
		syslog(LOG_WARNING, "reaped %s:%u -> %s:%u age=%.1fs kind=%s pid=%u result=%s", sa, c->sport,
		       da, c->dport, (double)c->age_ns / 1e9, c->orphaned ? "orphaned" : "held", c->pid, result);
	}
}

static void hook_report(void *ctx, const char *msg)
{
	fw_warn(LOG_ERR, "%s", msg);
}

static void publish_metrics(struct app *a, __u64 now)
{
	if (!a->metrics && !a->cfg->metrics_file)
		return;
	refresh_stats(a);
	if (metrics_render(&a->metrics_text, a->tracker, &a->st, a->cfg->metrics_top, now,
			   reaper_ok(a->reaper), reaper_failed(a->reaper), a->cfg->metrics_labels))
		return;
	if (a->metrics)
		metrics_server_publish(a->metrics, &a->metrics_text);
}

static void write_metrics_file(struct app *a)
{
	int err;

	if (!a->cfg->metrics_file || !a->metrics_text.len)
		return;
	err = metrics_write_file(a->cfg->metrics_file, &a->metrics_text);
	if (err)
		fw_warn(LOG_WARNING, "writing --metrics-file %s failed: %s", a->cfg->metrics_file,
			strerror(-err));
}

/* The process's own CPU (getrusage) and resident memory (/proc/self/statm). */
static void self_cost(struct fw_run_stats *st)
{
	struct rusage ru;
	long pages = 0, rss = 0;
	FILE *f;

	if (!getrusage(RUSAGE_SELF, &ru))
		st->cpu_ns = ((__u64)ru.ru_utime.tv_sec + (__u64)ru.ru_stime.tv_sec) * NS_PER_SEC +
			     ((__u64)ru.ru_utime.tv_usec + (__u64)ru.ru_stime.tv_usec) * 1000;
	f = fopen("/proc/self/statm", "re");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) == 2 && rss > 0)
			st->rss_bytes = (__u64)rss * (__u64)sysconf(_SC_PAGESIZE);
		fclose(f);
	}
}

static void refresh_stats(struct app *a)
{
	__u64 s[FW_STAT_MAX] = {};

	if (!fw_read_stats(a->skel, s)) {
		a->st.events = s[FW_STAT_EVENTS];
		a->st.transitions = s[FW_STAT_SEEN];
		a->st.lost = s[FW_STAT_RB_DROPS];
		a->st.storage_failures = s[FW_STAT_STORAGE_FAILS];
		a->st.handoff_map_full = s[FW_STAT_HANDOFF_FULL];
	}
	a->st.recursion_misses = fw_recursion_misses(a->skel, &a->st.recursion_misses_backup);
	/* Malformed records of either source: nothing is dropped silently. */
	a->st.malformed = a->rb_malformed + (a->scanner_ready ? a->scanner.malformed : 0);
	if (a->scanner_ready) {
		a->st.scans = a->scanner.scans;
		a->st.scan_cpu_ns = a->scanner.scan_cpu_ns_total;
	}
	self_cost(&a->st);
}

/* ---- scans ---- */

/* Long walks stop now and then to apply queued events (see fw_scanner). */
static void drain_events(void *ctx)
{
	struct app *a = ctx;

	if (a->rb)      /* doctor reads no events */
		ring_buffer__consume(a->rb);
}

/* ---- the scan driver's view of the kernel (struct scan_ops) ---- */

static int ops_scan(void *ctx, __u32 inum, __u64 tw_cutoff_expiry, scan_rec_fn fn, void *fn_ctx,
		    int *fin_timeout_s)
{
	struct app *a = ctx;

	a->skel->bss->tw_cutoff_expiry = tw_cutoff_expiry;
	return scanner_scan(&a->scanner, inum, fn, fn_ctx, fin_timeout_s);
}

static int ops_netns_list(void *ctx, __u32 **out)
{
	struct app *a = ctx;
	int err = netns_enumerate(&a->scanner.nsset);

	if (err)
		return err < 0 ? err : -EINVAL;
	int n = a->scanner.nsset.n;
	__u32 *inums = malloc(n * sizeof(*inums));

	if (!inums)
		return -ENOMEM;
	/* Copy first: scans may re-enumerate the set. Out-of-scope
	 * namespaces are never walked. */
	int k = 0;

	for (int i = 0; i < n; i++)
		if (scope_netns(&a->scope, a->scanner.nsset.refs[i].inum))
			inums[k++] = a->scanner.nsset.refs[i].inum;
	*out = inums;
	return k;
}

static int ops_kernel_owners(void *ctx)
{
	return ((struct app *)ctx)->scanner.owners_link != NULL;
}

static int ops_owners(void *ctx, owner_rec_fn fn, void *fn_ctx)
{
	return scanner_owners(&((struct app *)ctx)->scanner, fn, fn_ctx);
}

static int ops_owners_proc(void *ctx, struct sock_owner_req *reqs, int n)
{
	return sock_owner_resolve("/proc", reqs, n, drain_events, ctx);
}

static __u64 ops_now(void *ctx)
{
	return mono_ns();
}

static int ops_in_scope(void *ctx, const struct fw_scan_rec *r)
{
	struct app *a = ctx;

	return !a->scoped || scope_socket(&a->scope, r->netns, r->cgroup_id, fw2_tracks(a->tracker, r->cookie),
					  mono_ns());
}

static __u64 ops_scan_cpu_ns(void *ctx)
{
	return ((struct app *)ctx)->scanner.scan_cpu_ns_total;
}

static int ops_stopping(void *ctx)
{
	return exiting;
}

static void ops_warn(void *ctx, const char *msg)
{
	fw_warn(LOG_WARNING, "%s", msg);
}

static const struct scan_ops iter_scan_ops = {
	.scan = ops_scan,
	.netns_list = ops_netns_list,
	.kernel_owners = ops_kernel_owners,
	.owners = ops_owners,
	.owners_proc = ops_owners_proc,
	.drain = drain_events,
	.now = ops_now,
	.in_scope = ops_in_scope,
	.scan_cpu_ns = ops_scan_cpu_ns,
	.stopping = ops_stopping,
	.warn = ops_warn,
};

/* Periodic full rescan: corrects the tracker if an event was ever missed,
 * and says so. */
static void reconcile(struct app *a)
{
	__u64 found, missing;

	if (!scan_driver_reconcile(&a->scans, &found, &missing))
		return;
	if (a->cfg->json) {
		out_reconcile_json(&a->jw, found, missing, mono_ns());
		end_line(a);
	} else {
		out_reconcile_text(a->sink.mem, found, missing);
		emit(a);
	}
}

static void print_summary(struct app *a, int final)
{
	__u64 now = mono_ns();

	refresh_stats(a);
	if (a->cfg->cmd == FW_CMD_WATCH) {
		if (a->cfg->json) {
			out_summary_json(&a->jw, a->tracker, now, a->cfg->top, &a->st, final);
			end_line(a);
		} else {
			out_table_text(a->sink.mem, a->tracker, now, a->cfg->top, &a->st);
			if (final)
				out_histograms_text(a->sink.mem, a->tracker, a->cfg->top);
			emit(a);
		}
	} else if (a->cfg->json && final) {
		out_trace_summary_json(&a->jw, &a->st, now);
		end_line(a);
	}
	if (!final)
		return;
	if (!a->cfg->json || a->st.lost || a->st.recursion_misses || a->st.recursion_misses_backup ||
	    a->st.malformed || a->st.print_errors)
		fprintf(stderr, "finwatch: %llu events, %llu received, %llu lost (ring buffer full), "
			"%llu+%llu runs skipped by the kernel (recursion; two program copies, an event is "
			"lost only if both skip it), %llu malformed, %llu not printed\n",
			(unsigned long long)a->st.events, (unsigned long long)a->st.received,
			(unsigned long long)a->st.lost, (unsigned long long)a->st.recursion_misses,
			(unsigned long long)a->st.recursion_misses_backup,
			(unsigned long long)a->st.malformed, (unsigned long long)a->st.print_errors);
	if (a->st.lost)
		fprintf(stderr, "finwatch: events were lost; raise --ringbuf-size (now %llu bytes)\n",
			(unsigned long long)a->cfg->ringbuf_bytes);
}

static int run_loop(struct app *a)
{
	const struct fw_config *cfg = a->cfg;
	__u64 now = mono_ns();
	__u64 deadline = cfg->duration_ns ? a->t0_ns + cfg->duration_ns : 0;
	__u64 next_tick = now;
	__u64 next_summary = now + cfg->interval_ns, next_publish = now, next_reap = now;
	__u64 next_reconcile = cfg->reconcile_ns ? now + cfg->reconcile_ns : UINT64_MAX;
	int watch = cfg->cmd == FW_CMD_WATCH;

	if (a->scanner_ready)
		scan_driver_arm(&a->scans, now);

	while (!exiting) {
		int err = ring_buffer__poll(a->rb, POLL_MS);

		/* A signal: SIGINT/SIGTERM set `exiting`, SIGHUP and SIGUSR1 ask
		 * for work below; none of them is an error. */
		if (err == -EINTR)
			continue;
		if (err < 0) {
			fw_warn(LOG_ERR, "reading the ring buffer failed: %s", strerror(-err));
			return -1;
		}
		/* The kernel wakes us only past wakeup_bytes (batching); what
		 * was queued more quietly is read when the poll times out. */
		if (err == 0)
			ring_buffer__consume(a->rb);
		sink_flush(&a->sink);
		now = mono_ns();
		if (watch) {
			if (a->scanner_ready)
				scan_driver_follow(&a->scans, now);
			if (a->scanner_ready && now >= next_reconcile) {
				reconcile(a);
				next_reconcile = mono_ns() + cfg->reconcile_ns;
			}
			if (now >= next_tick) {
				fw2_tick(a->tracker, now);
				next_tick = now + TICK_NS;
			}
			if (a->reaper && now >= next_reap) {
				reaper_run(a->reaper, a->tracker, &a->scanner, now, on_reaped, a);
				next_reap = now + TICK_NS;
			}
			if (now >= next_publish) {
				publish_metrics(a, now);
				next_publish = now + NS_PER_SEC;
			}
			if (a->hooks)
				hook_poll(a->hooks, now, hook_report, a);
			if (now >= next_summary) {
				print_summary(a, 0);
				write_metrics_file(a);
				next_summary = now + cfg->interval_ns;
			}
			if (want_reopen) {
				want_reopen = 0;
				reopen_output(a);
			}
			if (want_hist) {
				want_hist = 0;
				if (cfg->json) {
					out_histograms_text(stderr, a->tracker, cfg->top);
				} else {
					out_histograms_text(a->sink.mem, a->tracker, cfg->top);
					emit(a);
				}
			}
		}
		if (deadline && now >= deadline)
			break;
		if (cfg->child_argv && wrapper_poll(&a->wrap))
			break;
	}
	return 0;
}

/* What runs with less on this kernel, said once at start. */
static void note_degraded(struct app *a, const struct fw_kernel_support *ks)
{
	static const struct { enum fw_feature f; int watch_only; const char *then; } notes[] = {
		{ FW_FEAT_ITER_TCP, 1, "no startup discovery, no follow-up of orphans in their timewait "
				       "phase, no reconciliation and no reaping" },
		{ FW_FEAT_ITER_TASK_FILE, 1, "holders of discovered sockets are read from /proc instead" },
	};

	for (unsigned i = 0; i < sizeof(notes) / sizeof(notes[0]); i++) {
		const struct fw_feature_desc *d = kernel_feature_desc(notes[i].f);

		if (ks->have[notes[i].f] != FW_FEAT_NO || (notes[i].watch_only && a->cfg->cmd == FW_CMD_TRACE))
			continue;
		fw_warn(LOG_WARNING, "kernel %s has no %s (Linux %s): %s", ks->release, d->name,
			 d->since, notes[i].then);
	}
}

/* Kernel features every command needs, then what runs with less. */
static int kernel_ready(struct app *a, const struct fw_kernel_support *ks)
{
	char msg[512];

	if (kernel_features_check(ks, msg, sizeof(msg))) {
		fw_warn(LOG_ERR, "%s", msg);
		return -1;
	}
	note_degraded(a, ks);
	return 0;
}

/* open -> rodata -> load, then (unless a one-shot report) attach the
 * tracepoint programs and the ring buffer reader. */
static int app_load(struct app *a, const struct fw_kernel_support *ks, int attach)
{
	char msg[512];
	int err;

	err = fw_open(a->cfg, ks, a->scope.netns, a->scope.n_netns, &a->skel);
	if (err) {
		fw_warn(LOG_ERR, "opening the BPF object failed: %s", strerror(-err));
		return -1;
	}
	if (fw_load(a->skel, msg, sizeof(msg))) {
		fw_warn(LOG_ERR, "%s", msg);
		return -1;
	}
	if (!attach)
		return 0;
	err = fw_attach(a->skel, a->cfg->single_program);
	if (err) {
		fw_warn(LOG_ERR, "attaching to tracepoint inet_sock_set_state failed: %s "
			 "(kernel 5.12+ with BTF needed; rerun with -v)", strerror(-err));
		return -1;
	}
	a->rb = ring_buffer__new(bpf_map__fd(a->skel->maps.events), handle_event, a, NULL);
	if (!a->rb) {
		fw_warn(LOG_ERR, "creating the ring buffer reader failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The tracker and the iter/tcp scanner (watch and doctor). */
static int tracker_setup(struct app *a, const struct fw_kernel_support *ks)
{
	struct fw2_callbacks cb = { .on_exit = on_exit_cb, .on_alert = on_alert_cb,
				    .follow = follow_cb, .unfollow = unfollow_cb, .ctx = a };
	struct fw2_policy pol = cli_tracker_policy(a->cfg);
	int err;

	if (pol.group_wl && a->wl) {
		workload_map_set_group(a->wl, pol.group_wl);
		pol.wl_key = workload_map_key;
		pol.wl_ctx = a->wl;
	}

	a->tracker = fw2_tracker_new(&pol, &cb, 0);
	if (!a->tracker) {
		fw_warn(LOG_ERR, "out of memory creating the tracker");
		return -1;
	}
	/* Without iter/tcp there is nothing to scan with (said once by
	 * note_degraded); without iter/task_file holders come from /proc. */
	err = ks->have[FW_FEAT_ITER_TCP] == FW_FEAT_NO ? -EOPNOTSUPP
		: scanner_init(&a->scanner, a->skel->progs.fw_scan,
			       ks->have[FW_FEAT_ITER_TASK_FILE] == FW_FEAT_NO ? NULL : a->skel->progs.fw_owners);
	if (err && err != -EOPNOTSUPP) {
		fw_warn(LOG_ERR, "creating the iter/tcp scanner failed (%s): sockets "
			 "stuck before start and timewait phases will not be followed; kernel "
			 "5.9+ with BPF iterators needed (rerun with -v)", strerror(-err));
	} else if (!err) {
		a->scanner_ready = 1;
		a->scanner.between = drain_events;
		a->scanner.between_ctx = a;
	}
	scan_driver_init(&a->scans, &iter_scan_ops, a, a->tracker, a->cfg);
	return 0;
}

/* --reap-after and --on-alert (watch only). */
static int actions_setup(struct app *a)
{
	const struct fw_config *cfg = a->cfg;

	if (cfg->reap_after_ns) {
		char d[32];

		if (!a->scanner_ready) {
			fw_warn(LOG_ERR, "--reap-after needs the iter/tcp scanner, which failed to start");
			return -1;
		}
		a->reaper = reaper_new(cfg);
		if (!a->reaper) {
			fw_warn(LOG_ERR, "out of memory creating the reaper");
			return -1;
		}
		format_duration(d, sizeof(d), cfg->reap_after_ns);
		fprintf(stderr, "finwatch: %s: %s FIN_WAIT_2 sockets older than %s (%s, %s, at most "
			"%llu/s). Destroying a socket sends the peer an RST; the peer may lose data "
			"it has not read. The holding process sees ECONNABORTED on its next call.\n",
			cfg->reap_dry_run ? "REAP DRY RUN" : "REAPING ENABLED",
			cfg->reap_dry_run ? "would destroy" : "destroying", d,
			cfg->reap_kind == FW2_KIND_HELD ? "held only"
			: cfg->reap_kind == FW2_KIND_ORPHANED ? "orphaned only" : "held and orphaned",
			cfg->n_reap_peers ? "listed peers only" : "any peer",
			(unsigned long long)cfg->reap_rate);
	}
	if (cfg->on_alert) {
		/* At most 4 at once; 256 waiting before any is dropped. */
		a->hooks = hook_new(cfg->on_alert, cfg->hook_timeout_ns, 4, 256);
		if (!a->hooks) {
			fw_warn(LOG_ERR, "--on-alert: invalid command (%s)", strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Everything privileged is open: drop what the run does not need, then
 * start the metrics server (threads start only after this). */
static int drop_and_serve(struct app *a)
{
	int err;

	if (fw_drop_privileges(a->cfg)) {
		fw_warn(LOG_ERR, "dropping capabilities after load failed; refusing to run with more "
			     "privileges than needed");
		return -1;
	}
	if (a->cfg->metrics_enabled) {
		err = metrics_server_start(&a->cfg->metrics_addr, &a->metrics);
		if (err) {
			fw_warn(LOG_ERR, "--metrics: cannot listen (%s); pick a free port "
				 "or address", strerror(-err));
			return -1;
		}
	}
	return 0;
}

/*
 * CMD has ended (run_stream walked its scope once more): the leak report.
 * CMD's status if non-zero, else 3 for an alert or a leak.
 */
static int wrap_verdict(struct app *a)
{
	const struct fw_config *cfg = a->cfg;
	struct fw_verdict v = {
		.command = cfg->child_argv[0], .pid = a->wrap.pid, .exit_code = wrapper_exit_code(&a->wrap),
		.scope = a->wrap.cg_fs[0] ? "cgroup" : "netns",
		.cgroup = a->wrap.cg_fs[0] ? a->wrap.cg_path : NULL,
		.netns = a->wrap.cg_fs[0] ? 0 : a->scope.netns[0],
		.processes_left = wrapper_leftover_procs(&a->wrap), .leaks_warn = cfg->leaks_warn,
	};
	__u32 held, orphaned;

	v.status = v.exit_code ? v.exit_code
		   : (fw2_counters(a->tracker)->alerts_fired ||
		      (out_leaked(a->tracker, &held, &orphaned) && !cfg->leaks_warn)) ? FW_EXIT_ALERT : FW_EXIT_OK;
	if (cfg->json) {
		out_verdict_json(&a->jw, &v, a->tracker, mono_ns());
		end_line(a);
	} else {
		out_verdict_text(a->sink.mem, &v, a->tracker, mono_ns());
		emit(a);
	}
	return v.status;
}

/* watch and trace: poll until a signal or --duration, then detach, drain
 * and print the final summary. Returns the exit code. */
static int run_stream(struct app *a)
{
	const struct fw_config *cfg = a->cfg;

	static const int sigs[] = { SIGINT, SIGTERM, SIGUSR1, SIGHUP, SIGQUIT, SIGUSR2 };
	struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	/* QUIT and USR2 only pass on to a wrapped CMD. */
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (cfg->child_argv || (sigs[i] != SIGQUIT && sigs[i] != SIGUSR2))
			sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	a->t0_ns = mono_ns();
	if (cfg->cmd == FW_CMD_TRACE && !cfg->json) {
		trace_print_header(a->sink.mem);
		emit(a);
	}
	/* CMD has not run yet: nothing of its to discover. */
	if (cfg->cmd == FW_CMD_WATCH && a->scanner_ready && !cfg->no_discovery && !cfg->child_argv) {
		scan_driver_all(&a->scans);
		fw2_tick(a->tracker, mono_ns());
		if (!cfg->json) {
			refresh_stats(a);
			out_table_text(a->sink.mem, a->tracker, mono_ns(), cfg->top, &a->st);
			emit(a);
		}
	}
	if (cfg->json) {
		/* A marker so tests and pipelines know tracking is live. */
		out_start_json(&a->jw, cfg->cmd == FW_CMD_WATCH ? "watch" : "trace", a->tracker, mono_ns());
		end_line(a);
	}
	if (cfg->child_argv) {
		int err = wrapper_go(&a->wrap);

		if (err) {
			fw_warn(LOG_ERR, "-- CMD: cannot run %s: %s", cfg->child_argv[0], strerror(-err));
			/* As a shell says it: not found, or found but not runnable. */
			return err == -ENOENT ? 127 : 126;
		}
		wrapped_pid = a->wrap.pid;
	}
	if (run_loop(a))
		return FW_EXIT_RUNTIME;
	/* Detach first: the final drain then reads a queue that no longer
	 * grows, and the counters below match what was read. */
	bpf_link__destroy(a->skel->links.fw_set_state);
	a->skel->links.fw_set_state = NULL;
	bpf_link__destroy(a->skel->links.fw_set_state_backup);
	a->skel->links.fw_set_state_backup = NULL;
	a->draining = 1;
	ring_buffer__consume(a->rb);
	if (cfg->child_argv) {
		/* Orphans CMD left count once a walk has seen them (handoffs). */
		wrapped_pid = 0;
		if (a->scanner_ready)
			scan_driver_all(&a->scans);
	}
	if (a->tracker)
		fw2_tick(a->tracker, mono_ns());
	/* The last record should arrive even through a slow reader. */
	a->sink.final_wait_ms = 2000;
	print_summary(a, 1);
	if (a->tracker) {
		publish_metrics(a, mono_ns());
		write_metrics_file(a);
	}
	if (cfg->child_argv)
		return wrap_verdict(a);
	if (cfg->exit_on_alert && a->tracker && fw2_counters(a->tracker)->alerts_fired)
		return FW_EXIT_ALERT;
	return FW_EXIT_OK;
}

/* A --cgroup PATH as given to a path in the hierarchy ("/kubepods.slice"):
 * a path inside the cgroup2 mount counts too. 0, or -ENOENT (no such
 * cgroup: a usage error). */
static int cgroup_scope_path(const char *arg, const char *mnt, const char *root, char *out, size_t len)
{
	size_t ml = strlen(mnt);
	char fs[1024];
	struct stat st;
	const char *rel = arg;

	if (!strncmp(arg, mnt, ml) && (arg[ml] == '/' || !arg[ml]))
		rel = arg + ml;   /* a filesystem path under the mount */
	else if (strcmp(root, "/") && !strncmp(arg, root, strlen(root)))
		rel = arg + strlen(root);   /* a hierarchy path inside our view */
	snprintf(fs, sizeof(fs), "%s/%s", mnt, rel[0] == '/' ? rel + 1 : rel);
	if (stat(fs, &st) || !S_ISDIR(st.st_mode))
		return -ENOENT;
	snprintf(out, len, "%s%s%s", strcmp(root, "/") ? root : "", rel[0] == '/' ? "" : "/", rel);
	if (strlen(out) > 1 && out[strlen(out) - 1] == '/')
		out[strlen(out) - 1] = '\0';
	return 0;
}

/* --cgroup-fs DIR: a cgroup2 mount of the whole hierarchy (a pod's hostPath
 * of the node's /sys/fs/cgroup), or a hybrid host's DIR/unified. */
static int cgroup2_at(const char *dir, char *mnt, size_t mnt_len, char *root, size_t root_len)
{
	struct statfs sf;

	snprintf(root, root_len, "/");
	if (!statfs(dir, &sf) && sf.f_type == CGROUP2_SUPER_MAGIC) {
		snprintf(mnt, mnt_len, "%s", dir);
		return 0;
	}
	snprintf(mnt, mnt_len, "%s/unified", dir);
	return !statfs(mnt, &sf) && sf.f_type == CGROUP2_SUPER_MAGIC ? 0 : -ENOENT;
}

/*
 * -- CMD watches CMD's process tree: a cgroup of its own where cgroup v2 is
 * writable, else the network namespace it shares with finwatch (said,
 * since other processes' sockets there count too).
 */
static int wrap_scope(struct app *a, const char *mnt, const char *root)
{
	char why[600] = "no cgroup v2 hierarchy is mounted";
	__u32 self;

	if (mnt && a->wl && !wrapper_cgroup(&a->wrap, mnt, root, why, sizeof(why)) &&
	    strlen(a->wrap.cg_path) < sizeof(a->scope.cgroup)) {
		snprintf(a->scope.cgroup, sizeof(a->scope.cgroup), "%s", a->wrap.cg_path);
		fprintf(stderr, "finwatch: watching %s's sockets: cgroup %s\n", a->cfg->child_argv[0],
			a->wrap.cg_path);
		return 0;
	}
	wrapper_cleanup(&a->wrap);
	if (scope_netns_arg("self", 4, &self)) {
		fw_warn(LOG_ERR, "-- CMD: neither a cgroup (%s) nor this network namespace can scope "
			"the run", why);
		return -1;
	}
	a->scope.netns[0] = self;
	a->scope.n_netns = 1;
	fprintf(stderr, "finwatch: watching %s's sockets: network namespace %u (%s: other processes' "
		"sockets in it count too)\n", a->cfg->child_argv[0], self, why);
	return 0;
}

/* CMD's process, forked before finwatch drops privileges, waiting to exec. */
static int wrap_spawn(struct app *a)
{
	int err;

	if (!a->cfg->child_argv)
		return 0;
	err = wrapper_spawn(&a->wrap, a->cfg->child_argv);
	if (err)
		fw_warn(LOG_ERR, "-- CMD: cannot start a process: %s", strerror(-err));
	return err ? -1 : 0;
}

/*
 * --netns and --cgroup, and the cgroup ids -> workloads map (records name
 * the pod holding sockets). Returns an exit code: a namespace or cgroup
 * that does not exist is bad usage.
 */
static int scope_setup(struct app *a)
{
	const struct fw_config *cfg = a->cfg;
	char mnt[512], root[512];
	int err;

	for (int i = 0; i < cfg->n_netns_args; i++) {
		const char *arg = cfg->netns_args[i];
		size_t n = strcspn(arg, ",");

		err = scope_netns_arg(arg, n, &a->scope.netns[a->scope.n_netns]);
		if (err) {
			fprintf(stderr, "finwatch: --netns: no network namespace '%.*s' (%s; use an inode "
				"number, NAME or /run/netns/NAME, /proc/PID/ns/net, or self) (see finwatch "
				"--help)\n", (int)n, arg, strerror(-err));
			return FW_EXIT_USAGE;
		}
		a->scope.n_netns++;
	}
	err = cfg->cgroup_fs ? cgroup2_at(cfg->cgroup_fs, mnt, sizeof(mnt), root, sizeof(root))
			     : cgroup2_find_mount("/proc/self/mountinfo", mnt, sizeof(mnt), root, sizeof(root));
	if (err && cfg->cgroup_fs) {
		fprintf(stderr, "finwatch: --cgroup-fs: %s is not a cgroup v2 hierarchy (nor is %s/unified) "
			"(see finwatch --help)\n", cfg->cgroup_fs, cfg->cgroup_fs);
		return FW_EXIT_USAGE;
	}
	if (!err)
		a->wl = workload_map_new(mnt, root, cfg->pods_dir);
	a->scope.map = a->wl;
	if (cfg->cgroup_scope) {
		if (!a->wl) {
			fw_warn(LOG_ERR, "--cgroup needs a cgroup v2 hierarchy, and none is mounted "
				"(mount -t cgroup2 none /sys/fs/cgroup)");
			return FW_EXIT_RUNTIME;
		}
		if (cgroup_scope_path(cfg->cgroup_scope, mnt, root, a->scope.cgroup, sizeof(a->scope.cgroup))) {
			fprintf(stderr, "finwatch: --cgroup: no cgroup '%s' under the cgroup v2 mount %s "
				"(see finwatch --help)\n", cfg->cgroup_scope, mnt);
			return FW_EXIT_USAGE;
		}
	}
	if (cfg->child_argv && wrap_scope(a, err ? NULL : mnt, root))
		return FW_EXIT_RUNTIME;
	if (cfg->group_wl && !a->wl)
		fw_warn(LOG_WARNING, "no cgroup v2 hierarchy is mounted: workloads cannot be named, "
			"and --group-by's workload part groups by cgroup id");
	a->scoped = a->scope.n_netns || a->scope.cgroup[0];
	/* Records carry workloads in watch mode (trace prints transitions). */
	if (cfg->cmd == FW_CMD_WATCH)
		wl_register(a->wl, mono_ns);
	return 0;
}

static int cmd_watch(struct app *a, const struct fw_kernel_support *ks)
{
	int ret = scope_setup(a);

	if (ret)
		return ret;
	if (kernel_ready(a, ks) || app_load(a, ks, 1) || tracker_setup(a, ks) || actions_setup(a) ||
	    wrap_spawn(a) || drop_and_serve(a))
		return FW_EXIT_RUNTIME;
	return run_stream(a);
}

static int cmd_trace(struct app *a, const struct fw_kernel_support *ks)
{
	int ret = scope_setup(a);

	if (ret)
		return ret;
	if (kernel_ready(a, ks) || app_load(a, ks, 1) || drop_and_serve(a))
		return FW_EXIT_RUNTIME;
	return run_stream(a);
}

/* A one-shot report: the iter programs and the feature probe only; no
 * tracepoint, no ring buffer, no follow-ups, hooks or alerts. */
static int cmd_doctor(struct app *a, const struct fw_kernel_support *ks)
{
	/* First, so a kernel finwatch cannot run on still gets its report. */
	if (a->cfg->json)
		kernel_features_json(ks, &a->jw, mono_ns());
	else
		kernel_features_print(ks, a->sink.mem);
	emit(a);
	if (kernel_ready(a, ks) || app_load(a, ks, 0) || tracker_setup(a, ks) || drop_and_serve(a))
		return FW_EXIT_RUNTIME;
	if (!a->scanner_ready)
		return FW_EXIT_RUNTIME;
	scan_driver_all(&a->scans);
	/* A one-shot report: plain blocking stdout is right here. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	jw_init(&a->jw, stdout);
	return doctor_run(a->cfg, &a->scanner, a->tracker, &a->jw, mono_ns()) ? FW_EXIT_RUNTIME
									     : FW_EXIT_OK;
}

/* One function per command (bpftool's commands[]), indexed by enum fw_cmd. */
static int (*const commands[])(struct app *a, const struct fw_kernel_support *ks) = {
	[FW_CMD_WATCH] = cmd_watch,
	[FW_CMD_TRACE] = cmd_trace,
	[FW_CMD_DOCTOR] = cmd_doctor,
};

/* Output, sink and syslog: what every command writes through. */
static int app_open(struct app *a)
{
	const struct fw_config *cfg = a->cfg;

	setup_json_records();
	if (cfg->output) {
		a->out = open_output(cfg->output);
		if (!a->out) {
			fw_warn(LOG_ERR, "cannot open --output %s: %s", cfg->output, strerror(errno));
			return -1;
		}
	}
	if (sink_open(&a->sink, a->out ? fileno(a->out) : STDOUT_FILENO)) {
		fw_warn(LOG_ERR, "out of memory");
		return -1;
	}
	jw_init(&a->jw, a->sink.mem);
	if (cfg->syslog)
		openlog("finwatch", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	fw_warn_setup(cfg->json ? warn_record : NULL, a, cfg->syslog);
	return 0;
}

/* The one cleanup: every exit after app_open comes through here. */
static void app_close(struct app *a)
{
	const struct fw_config *cfg = a->cfg;

	if (a->hooks) {
		/* Alerts resolved at exit still reach the hook, briefly. */
		hook_free(a->hooks, cfg->hook_timeout_ns < 2 * NS_PER_SEC ? cfg->hook_timeout_ns : 2 * NS_PER_SEC);
	}
	metrics_server_stop(a->metrics);
	reaper_free(a->reaper);
	sb_free(&a->metrics_text);
	sb_free(&a->scratch);
	scan_driver_free(&a->scans);
	if (a->scanner_ready)
		scanner_free(&a->scanner);
	fw2_tracker_free(a->tracker);
	wl_register(NULL, NULL);
	workload_map_free(a->wl);
	wrapper_cleanup(&a->wrap);
	ring_buffer__free(a->rb);
	finwatch_bpf__destroy(a->skel);
	fw_warn_setup(NULL, NULL, 0);
	sink_close(&a->sink);
	if (a->out)
		fclose(a->out);
	if (cfg->syslog)
		closelog();
}

int main(int argc, char **argv)
{
	struct fw_config cfg;
	struct app a = { .cfg = &cfg };
	struct fw_kernel_support ks;
	char msg[512];
	int err, ret;

	err = cli_parse(argc, argv, &cfg, msg, sizeof(msg));
	if (err == 1 || err == 2) {
		if (err == 1)
			cli_usage(stdout);
		else
			printf("finwatch %s\n", FW_VERSION);
		return FW_EXIT_OK;
	}
	if (err) {
		fprintf(stderr, "finwatch: %s (see finwatch --help)\n", msg);
		return FW_EXIT_USAGE;
	}
	if (app_open(&a)) {
		app_close(&a);
		return FW_EXIT_RUNTIME;
	}
	if (fw_preflight(msg, sizeof(msg))) {
		fw_warn(LOG_ERR, "%s", msg);
		ret = FW_EXIT_RUNTIME;
	} else {
		fw_setup_libbpf_log(cfg.verbose);
		kernel_probe(&ks);
		ret = commands[cfg.cmd](&a, &ks);
	}
	app_close(&a);
	return ret;
}
