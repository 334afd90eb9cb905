// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Which sockets a run looks at (--netns, --cgroup), the cgroup ids ->
 * workloads map, and -- CMD: its scope, its process and the leak verdict.
 */
#include <errno.h>
#include <syslog.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include "app.h"
#include "cgroup_index.h"
#include "fw2_tracker.h"
#include "warn.h"
#include "workload_map.h"

/*
 * CMD has ended (run_stream walked its scope once more): the leak report.
 * CMD's status if non-zero, else 3 for an alert or a leak.
 */
int wrap_verdict(struct app *a)
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
int wrap_spawn(struct app *a)
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
int scope_setup(struct app *a)
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
	if (fw_cmd_watches(cfg->cmd))
		wl_register(a->wl, mono_ns);
	return 0;
}
