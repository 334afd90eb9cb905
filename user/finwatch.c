// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * finwatch: which peers leave our TCP sockets stuck in FIN_WAIT_2.
 * One lifecycle: parse -> preflight -> open -> rodata -> load -> attach ->
 * poll; every exit after open goes through the single cleanup label.
 */
#include <errno.h>
#include <signal.h>
#include <syslog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "app.h"
#include "bpf_loader.h"
#include "doctor.h"
#include "fw2_tracker.h"
#include "hooks.h"
#include "kernel_probe.h"
#include "metrics_http.h"
#include "parse.h"
#include "reaper.h"
#include "top_view.h"
#include "trace_fmt.h"
#include "warn.h"
#include "workload_map.h"
#include "finwatch.skel.h"

#define POLL_MS 100
#define TICK_NS (250 * NS_PER_MS)
/*
 * -- CMD: events are read this long after CMD ended. A peer acknowledges
 * the FIN of a connection CMD closed just before it exited up to its
 * delayed-ACK time later (TCP_DELACK_MAX, 200 ms; the FIN puts the peer in
 * pingpong mode): that FIN_WAIT_2 entry comes after CMD is gone, and was
 * missed when finwatch detached at once (seen on Debian's 6.1 under qemu).
 */
#define WRAP_SETTLE_NS (300 * NS_PER_MS)

volatile sig_atomic_t app_exiting;
static volatile sig_atomic_t want_hist, want_reopen;
/* top: a hangup is the terminal going away, not a log rotation. */
static volatile sig_atomic_t hup_ends;
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
	else if (sig == SIGHUP && !hup_ends)
		want_reopen = 1;
	else
		app_exiting = 1;
}

/* top: a sample a second, keys at every turn. 1 when the user quit. */
static int top_step(struct app *a, __u64 now, __u64 *next_sample)
{
	if (now >= *next_sample) {
		refresh_stats(a);
		top_view_sample(a->top, a->tracker, &a->st, now);
		*next_sample = now + NS_PER_SEC;
	}
	return top_view_poll(a->top, a->tracker, now);
}

/* When watch's periodic jobs are next due. */
struct watch_clock {
	__u64 tick, summary, publish, reap, reconcile, sample;
};

/* watch's (and top's) work after each poll; 1 when top's user quit. */
static int watch_step(struct app *a, __u64 now, struct watch_clock *c)
{
	const struct fw_config *cfg = a->cfg;

	if (a->scanner_ready)
		scan_driver_follow(&a->scans, now);
	if (a->scanner_ready && now >= c->reconcile) {
		reconcile(a);
		c->reconcile = mono_ns() + cfg->reconcile_ns;
	}
	if (now >= c->tick) {
		fw2_tick(a->tracker, now);
		c->tick = now + TICK_NS;
	}
	if (a->reaper && now >= c->reap) {
		reaper_run(a->reaper, a->tracker, &a->scanner, now, on_reaped, a);
		c->reap = now + TICK_NS;
	}
	if (now >= c->publish) {
		publish_metrics(a, now);
		c->publish = now + NS_PER_SEC;
	}
	if (a->hooks)
		hook_poll(a->hooks, now, hook_report, a);
	if (now >= c->summary) {
		/* top's screen is its summary. */
		if (!a->top)
			print_summary(a, 0);
		write_metrics_file(a);
		c->summary = now + cfg->interval_ns;
	}
	if (a->top && top_step(a, now, &c->sample))
		return 1;
	if (want_reopen) {
		want_reopen = 0;
		reopen_output(a);
	}
	if (want_hist) {
		want_hist = 0;
		print_histograms(a);
	}
	return 0;
}

static int run_loop(struct app *a)
{
	const struct fw_config *cfg = a->cfg;
	__u64 now = mono_ns();
	__u64 deadline = cfg->duration_ns ? a->t0_ns + cfg->duration_ns : 0;
	struct watch_clock clock = {
		.tick = now, .summary = now + cfg->interval_ns, .publish = now, .reap = now,
		.reconcile = cfg->reconcile_ns ? now + cfg->reconcile_ns : UINT64_MAX, .sample = now,
	};
	__u64 cmd_ended_ns = 0;
	int watch = fw_cmd_watches(cfg->cmd);

	if (a->scanner_ready)
		scan_driver_arm(&a->scans, now);

	while (!app_exiting) {
		int err = ring_buffer__poll(a->rb, POLL_MS);

		/* A signal: SIGINT/SIGTERM set `app_exiting`, SIGHUP and SIGUSR1 ask
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
		if (watch && watch_step(a, now, &clock))
			break;
		if (deadline && now >= deadline)
			break;
		if (cfg->child_argv && !cmd_ended_ns && wrapper_poll(&a->wrap)) {
			cmd_ended_ns = now;
			wrapped_pid = 0;        /* reaped: its pid may be reused */
		}
		if (cmd_ended_ns && now - cmd_ended_ns >= WRAP_SETTLE_NS)
			break;
	}
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

/* Detach first: the final drain then reads a queue that no longer grows,
 * and the final counters match what was read. */
static void detach_and_drain(struct app *a)
{
	bpf_link__destroy(a->skel->links.fw_set_state);
	a->skel->links.fw_set_state = NULL;
	bpf_link__destroy(a->skel->links.fw_set_state_backup);
	a->skel->links.fw_set_state_backup = NULL;
	a->draining = 1;
	ring_buffer__consume(a->rb);
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
	/* top: every one of them ends it, so the terminal is given back. */
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (cfg->child_argv || a->top || (sigs[i] != SIGQUIT && sigs[i] != SIGUSR2))
			sigaction(sigs[i], &sa, NULL);
	hup_ends = a->top != NULL;
	signal(SIGPIPE, SIG_IGN);
	a->t0_ns = mono_ns();
	if (cfg->cmd == FW_CMD_TRACE && !cfg->json) {
		trace_print_header(a->sink.mem);
		emit(a);
	}
	/* CMD has not run yet: nothing of its to discover. */
	if (fw_cmd_watches(cfg->cmd) && a->scanner_ready && !cfg->no_discovery && !cfg->child_argv) {
		scan_driver_all(&a->scans);
		fw2_tick(a->tracker, mono_ns());
		if (!cfg->json && !a->top) {
			refresh_stats(a);
			out_table_text(a->sink.mem, a->tracker, mono_ns(), cfg->top, &a->st);
			emit(a);
		}
	}
	if (cfg->json) {
		/* A marker so tests and pipelines know tracking is live. */
		out_start_json(&a->jw, fw_cmd_name(cfg->cmd), a->tracker, mono_ns());
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
	int loop_err = run_loop(a);

	if (a->top) {
		/* The terminal first: what follows prints on it. */
		top_view_end(a->top);
		fw_warn_setup(cfg->json ? warn_record : NULL, a, cfg->syslog);
	}
	if (loop_err)
		return FW_EXIT_RUNTIME;
	detach_and_drain(a);
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

/* fw_warn while top's screen is up: its status line (and --output's record). */
static void top_warn(void *ctx, const char *msg)
{
	struct app *a = ctx;

	top_view_note(a->top, msg);
	if (a->cfg->json)
		warn_record(a, msg);
}

/* The screen comes up once everything is loaded: load errors print as
 * watch's do. */
static int top_start(struct app *a)
{
	char msg[256];

	a->top = top_view_start(mono_ns(), msg, sizeof(msg));
	if (!a->top) {
		fw_warn(LOG_ERR, "%s", msg);
		return -1;
	}
	fw_warn_setup(top_warn, a, a->cfg->syslog);
	return 0;
}

/* watch, and top: the same engine, top with a screen for the table. */
static int cmd_watch(struct app *a, const struct fw_kernel_support *ks)
{
	int ret = scope_setup(a);

	if (ret)
		return ret;
	if (kernel_ready(a, ks) || app_load(a, ks, 1) || tracker_setup(a, ks) || actions_setup(a) ||
	    wrap_spawn(a) || drop_and_serve(a))
		return FW_EXIT_RUNTIME;
	if (a->cfg->cmd == FW_CMD_TOP && top_start(a))
		return FW_EXIT_RUNTIME;
	return run_stream(a);
}

static int cmd_trace(struct app *a, const struct fw_kernel_support *ks)
{
	int ret = scope_setup(a);

	if (ret)
		return ret;
	/* As many sockets as the BPF LRU map this replaced held. */
	if (trace_ages_init(&a->ages, 1u << 18)) {
		fw_warn(LOG_ERR, "out of memory for trace's socket table");
		return FW_EXIT_RUNTIME;
	}
	a->ages_ready = 1;
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
static int (*const commands[FW_CMD_MAX])(struct app *a, const struct fw_kernel_support *ks) = {
	[FW_CMD_WATCH] = cmd_watch,
	[FW_CMD_TRACE] = cmd_trace,
	[FW_CMD_DOCTOR] = cmd_doctor,
	[FW_CMD_TOP] = cmd_watch,
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
	} else if (cfg->cmd == FW_CMD_TOP) {
		/* top shows alerts on its screen; records would scroll it
		 * (--output keeps them). */
		a->out = fopen("/dev/null", "we");
		if (!a->out) {
			fw_warn(LOG_ERR, "cannot open /dev/null: %s", strerror(errno));
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

	top_view_free(a->top);  /* the terminal first, on every path */
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
	if (a->ages_ready)
		trace_ages_free(&a->ages);
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
	if (cfg.cmd == FW_CMD_TOP && top_view_check(msg, sizeof(msg))) {
		fprintf(stderr, "finwatch: %s\n", msg);
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
