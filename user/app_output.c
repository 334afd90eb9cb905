// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What a run writes: records (text or JSON, through the sink), summaries,
 * the metrics page, alerts to hooks and syslog, and the run's counters.
 */
#include <errno.h>
#include <fcntl.h>
#include <syslog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <bpf/libbpf.h>
#include "app.h"
#include "bpf_loader.h"
#include "event.h"
#include "fw2_tracker.h"
#include "hooks.h"
#include "metrics_http.h"
#include "parse.h"
#include "reaper.h"
#include "trace_fmt.h"
#include "warn.h"
#include "finwatch.skel.h"

__u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * NS_PER_SEC + (__u64)ts.tv_nsec;
}

void setup_json_records(void)
{
	struct timespec rt, mt;
	char host[256] = "localhost";

	gethostname(host, sizeof(host) - 1);
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mt);
	json_record_setup(host, ((__s64)rt.tv_sec - mt.tv_sec) * (__s64)NS_PER_SEC +
				(rt.tv_nsec - mt.tv_nsec));
}

/* fw_warn's JSON record (warn.c): bpftool's convention, so a pipeline sees
 * why the stream ended or degraded. */
void warn_record(void *ctx, const char *msg)
{
	struct app *a = ctx;

	out_error_json(&a->jw, msg, mono_ns());
	end_line(a);
}

/* Appends, never truncates; 0640 so logs are not world-readable. */
FILE *open_output(const char *path)
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
void reopen_output(struct app *a)
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
int emit(struct app *a)
{
	int err = sink_emit_now(&a->sink);

	a->st.print_errors = a->sink.dropped;
	return err;
}

int end_line(struct app *a)
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

int handle_event(void *ctx, void *data, size_t len)
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
	} else {
		trace_ages_apply(&a->ages, &e);
		if (a->cfg->json) {
			trace_print_json(&a->jw, &e);
			end_line_batched(a);
		} else {
			trace_print_text(a->sink.mem, &e, a->t0_ns);
			emit_batched(a);
		}
	}
	/* libbpf keeps calling while records arrive: under a storm a poll
	 * would never return and SIGINT would wait for the storm to end. This
	 * record is handled (libbpf consumed it); the rest wait for the
	 * final drain. */
	return app_exiting && !a->draining ? -EINTR : 0;
}

void on_exit_cb(void *ctx, const struct fw2_exit *x)
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

void on_alert_cb(void *ctx, const struct fw2_alert *al)
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

/* Every reap attempt is an event: JSON, a text line, syslog. */
void on_reaped(void *ctx, const struct fw2_candidate *c, const char *result, int err)
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

void hook_report(void *ctx, const char *msg)
{
	fw_warn(LOG_ERR, "%s", msg);
}

void publish_metrics(struct app *a, __u64 now)
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

void write_metrics_file(struct app *a)
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

void refresh_stats(struct app *a)
{
	__u64 s[FW_STAT_MAX] = {};

	if (!fw_read_stats(a->skel, s)) {
		a->st.events = s[FW_STAT_EVENTS];
		a->st.transitions = a->cfg->cmd == FW_CMD_TRACE ? s[FW_STAT_EVENTS] + s[FW_STAT_RB_DROPS]
								: s[FW_STAT_SEEN];
		a->st.lost = s[FW_STAT_RB_DROPS];
		a->st.storage_failures = s[FW_STAT_STORAGE_FAILS];
		a->st.handoff_map_full = s[FW_STAT_HANDOFF_FULL];
		a->st.closer_misses = s[FW_STAT_CLOSER_MISSES];
		a->st.handled_overwrites = s[FW_STAT_HANDLED_OVERWRITES];
	}
	if (a->ages_ready) {
		a->st.age_misses = a->ages.misses;
		a->st.storage_failures = a->ages.evictions;
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

/* Periodic full rescan: corrects the tracker if an event was ever missed,
 * and says so. */
void reconcile(struct app *a)
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

void print_summary(struct app *a, int final)
{
	__u64 now = mono_ns();

	refresh_stats(a);
	if (fw_cmd_watches(a->cfg->cmd)) {
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

/* SIGUSR1: the lifetime histograms now (to stderr in JSON mode, where
 * stdout carries only records). */
void print_histograms(struct app *a)
{
	if (a->cfg->json) {
		out_histograms_text(stderr, a->tracker, a->cfg->top);
	} else {
		out_histograms_text(a->sink.mem, a->tracker, a->cfg->top);
		emit(a);
	}
}
