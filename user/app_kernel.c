// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The BPF object and what reads it: loading and attaching, the tracker's
 * follow-ups in the handoffs map, and the scan driver's view of the kernel
 * (struct scan_ops over the iter/tcp scanner).
 */
#include <errno.h>
#include <syslog.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "app.h"
#include "bpf_loader.h"
#include "fw2_tracker.h"
#include "kernel_probe.h"
#include "sock_owner.h"
#include "warn.h"
#include "workload_map.h"
#include "finwatch.skel.h"

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

/* Long walks stop now and then to apply queued events (see fw_scanner). */
void drain_events(void *ctx)
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
	return app_exiting;
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
int kernel_ready(struct app *a, const struct fw_kernel_support *ks)
{
	char msg[512];

	if (kernel_features_check(ks, msg, sizeof(msg))) {
		fw_warn(LOG_ERR, "%s", msg);
		return -1;
	}
	note_degraded(a, ks);
	return 0;
}

/*
 * The programs finwatch runs without, least needed first, with what is
 * lost. A verifier that rejects one of them (a kernel update changed what
 * it accepts: a later build of 6.18.44 rejected the holder walk) would otherwise
 * stop the whole monitor.
 */
static const struct { const char *name; const char *then; } optional_progs[] = {
	{ "fw_owners", "holders of discovered sockets are read from /proc instead" },
	{ "fw_scan", "no startup discovery, no follow-up of orphans in their timewait phase, "
		     "no reconciliation and no reaping" },
};
#define N_OPTIONAL (int)(sizeof(optional_progs) / sizeof(optional_progs[0]))

static struct bpf_program *optional_prog(struct app *a, int i)
{
	return bpf_object__find_program_by_name(a->skel->obj, optional_progs[i].name);
}

/* Test hook (tests/e2e/test_faults.sh, verifier_reject): the named program
 * is replaced by one the verifier must reject (it reads an uninitialised
 * register), so the fallback meets a real rejection. */
static void reject_for_test(struct bpf_object *obj)
{
	static const struct bpf_insn bad[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_0, .src_reg = BPF_REG_5 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	const char *name = getenv("FINWATCH_TEST_REJECT_PROG");
	struct bpf_program *p = name ? bpf_object__find_program_by_name(obj, name) : NULL;

	if (p && bpf_program__autoload(p))
		bpf_program__set_insns(p, (struct bpf_insn *)bad, 2);
}

/* open -> rodata -> load; after a rejection, again without the next
 * optional program the load had (dropped[] says which went). */
static int load_object(struct app *a, const struct fw_kernel_support *ks, int dropped[N_OPTIONAL])
{
	char msg[512];
	int err, next;

	for (;;) {
		err = fw_open(a->cfg, ks, a->scope.netns, a->scope.n_netns, &a->skel);
		if (err) {
			fw_warn(LOG_ERR, "opening the BPF object failed: %s", strerror(-err));
			return -1;
		}
		for (int i = 0; i < N_OPTIONAL; i++)
			if (dropped[i])
				bpf_program__set_autoload(optional_prog(a, i), false);
		reject_for_test(a->skel->obj);
		err = fw_load(a->skel, msg, sizeof(msg));
		if (!err)
			return 0;
		for (next = 0; next < N_OPTIONAL; next++)
			if (bpf_program__autoload(optional_prog(a, next)))
				break;
		/* Only a rejection is worth another try. */
		if ((err != -EACCES && err != -EINVAL) || next == N_OPTIONAL) {
			fw_warn(LOG_ERR, "%s", msg);
			return -1;
		}
		dropped[next] = 1;
		finwatch_bpf__destroy(a->skel);
		a->skel = NULL;
	}
}

/* Then, unless a one-shot report, attach the tracepoint programs and the
 * ring buffer reader. */
int app_load(struct app *a, const struct fw_kernel_support *ks, int attach)
{
	int dropped[N_OPTIONAL] = {}, err;

	if (load_object(a, ks, dropped))
		return -1;
	for (int i = 0; i < N_OPTIONAL; i++)
		if (dropped[i])
			fw_warn(LOG_WARNING, "the verifier of kernel %s rejected finwatch's programs; "
				 "running without %s (rerun with -v for the verifier log and report it "
				 "with `uname -r`): %s", ks->release, optional_progs[i].name,
				 optional_progs[i].then);
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
int tracker_setup(struct app *a, const struct fw_kernel_support *ks)
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
	/* Without iter/tcp there is nothing to scan with; without
	 * iter/task_file holders come from /proc (said once, by note_degraded
	 * or load_object). */
	err = !bpf_program__autoload(a->skel->progs.fw_scan) ? -EOPNOTSUPP
		: scanner_init(&a->scanner, a->skel->progs.fw_scan,
			       bpf_program__autoload(a->skel->progs.fw_owners) ? a->skel->progs.fw_owners : NULL);
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
