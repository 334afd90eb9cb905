/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One run of finwatch, shared by the files that make up the application
 * (not the kernel-free core): finwatch.c (commands, lifecycle, the poll
 * loop), app_output.c (records, summaries, metrics, alerts), app_kernel.c
 * (loading, the tracker and scanner wired to the BPF object) and
 * app_scope.c (--netns, --cgroup, -- CMD).
 */
#ifndef FW_APP_H
#define FW_APP_H

#include <signal.h>
#include <stdio.h>
#include <linux/types.h>
#include "cli.h"
#include "json_writer.h"
#include "kernel_features.h"
#include "metrics.h"
#include "scan.h"
#include "scan_driver.h"
#include "scope.h"
#include "trace_ages.h"
#include "sink.h"
#include "watch_out.h"
#include "wrapper.h"

struct finwatch_bpf;
struct ring_buffer;
struct fw2_tracker;
struct metrics_server;
struct hook_runner;
struct reaper;
struct workload_map;
struct top_view;

struct app {
	const struct fw_config *cfg;
	struct json_writer jw;
	struct finwatch_bpf *skel;
	struct ring_buffer *rb;
	struct fw2_tracker *tracker;
	struct trace_ages ages;       /* trace: ages and closers by cookie */
	int ages_ready;
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
	struct top_view *top;         /* finwatch top: the screen records would scroll */
};

/* Set by SIGINT/SIGTERM (finwatch.c): loops and long walks stop. */
extern volatile sig_atomic_t app_exiting;

__u64 mono_ns(void);

/* app_output.c: every record is built in a->sink.mem and written whole. */
void setup_json_records(void);
FILE *open_output(const char *path);
void reopen_output(struct app *a);
int emit(struct app *a);
int end_line(struct app *a);
void warn_record(void *ctx, const char *msg);
void refresh_stats(struct app *a);
void publish_metrics(struct app *a, __u64 now);
void write_metrics_file(struct app *a);
void print_summary(struct app *a, int final);
void print_histograms(struct app *a);
void reconcile(struct app *a);
void on_reaped(void *ctx, const struct fw2_candidate *c, const char *result, int err);
void hook_report(void *ctx, const char *msg);
int handle_event(void *ctx, void *data, size_t len);
/* The tracker's callbacks (fw2_callbacks) for records and alerts. */
void on_exit_cb(void *ctx, const struct fw2_exit *x);
void on_alert_cb(void *ctx, const struct fw2_alert *al);

/* app_kernel.c: the BPF object, the tracker and the iter/tcp scanner. */
int kernel_ready(struct app *a, const struct fw_kernel_support *ks);
int app_load(struct app *a, const struct fw_kernel_support *ks, int attach);
int tracker_setup(struct app *a, const struct fw_kernel_support *ks);
void drain_events(void *ctx);

/* app_scope.c: returns an exit code (a missing namespace or cgroup is bad
 * usage). */
int scope_setup(struct app *a);
int wrap_spawn(struct app *a);
int wrap_verdict(struct app *a);

#endif
