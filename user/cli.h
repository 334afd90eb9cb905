/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Command line -> fw_config. Kernel-free so unit tests and the fuzzer drive
 * it directly. */
#ifndef FW_CLI_H
#define FW_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include "parse.h"
#include "finwatch.h"
#include "fw2_policy.h"

#define FW_MAX_PEERS 32

enum fw_cmd { FW_CMD_WATCH = 0, FW_CMD_TRACE, FW_CMD_DOCTOR, FW_CMD_TOP, FW_CMD_MAX };

/* top is watch with a screen instead of a record stream: same engine. */
static inline int fw_cmd_watches(enum fw_cmd c)
{
	return c == FW_CMD_WATCH || c == FW_CMD_TOP;
}

/* As typed on the command line (the start record's "command"). */
static inline const char *fw_cmd_name(enum fw_cmd c)
{
	static const char *const names[FW_CMD_MAX] = {
		[FW_CMD_WATCH] = "watch", [FW_CMD_TRACE] = "trace", [FW_CMD_DOCTOR] = "doctor",
		[FW_CMD_TOP] = "top",
	};

	return (unsigned)c < FW_CMD_MAX ? names[c] : "?";
}

struct fw_config {
	enum fw_cmd cmd;
	int json;
	int verbose;
	uint16_t family;             /* 0 = both */
	uint16_t lports[FW_MAX_PORTS];
	int n_lports;
	uint16_t rports[FW_MAX_PORTS];
	int n_rports;
	struct cidr peers[FW_MAX_PEERS];
	int n_peers;
	uint64_t duration_ns;        /* 0 = until a signal */
	uint64_t ringbuf_bytes;
	int single_program;          /* benchmarking: no second copy */
	/* watch */
	uint64_t interval_ns;
	uint64_t max_age_ns;         /* 0 = rule off */
	uint64_t max_per_peer;       /* 0 = rule off */
	uint64_t max_total;          /* 0 = rule off */
	uint64_t scan_interval_ns;
	uint64_t reconcile_ns;       /* full rescan for missed events, 0 = off */
	enum fw_group_by group_by;
	uint8_t group_prefix4;
	uint8_t group_prefix6;
	enum fw_group_workload group_wl;   /* ",pod", ",container" or ",cgroup" */
	/* scopes (resolved at start: finwatch.c) */
	const char *netns_args[FW_MAX_NETNS];   /* --netns, as given */
	int n_netns_args;
	const char *cgroup_scope;    /* --cgroup PATH, as given */
	const char *pods_dir;        /* pod names: /var/log/pods */
	const char *cgroup_fs;       /* the host's cgroup2 hierarchy, NULL: mountinfo's */
	int metrics_labels;          /* FW_ML_* mask */
	/* finwatch [options] -- CMD [ARGS...]: run CMD, watch its sockets only */
	char **child_argv;           /* NULL-terminated (argv's tail), or NULL */
	int leaks_warn;              /* leaks do not change the exit status */
	int exit_on_alert;
	int top;
	int no_discovery;
	/* integration */
	int metrics_enabled;
	struct sockaddr_storage metrics_addr;
	const char *metrics_file;    /* points into argv */
	int metrics_top;
	const char *output;          /* JSON Lines file; NULL = stdout */
	int syslog;
	const char *on_alert;        /* command line, split on spaces, no shell */
	uint64_t hook_timeout_ns;
	/* reaping (off unless reap_after_ns) */
	uint64_t reap_after_ns;
	int reap_dry_run;
	enum fw2_kind reap_kind;     /* a mask */
	uint64_t reap_rate;          /* kills per second at most */
	struct cidr reap_peers[FW_MAX_PEERS];
	int n_reap_peers;
};

/* --metrics-labels */
#define FW_ML_POD 1
#define FW_ML_NAMESPACE 2
#define FW_ML_CONTAINER 4

/* Exit codes (documented in README and --help). */
#define FW_EXIT_OK 0
#define FW_EXIT_RUNTIME 1
#define FW_EXIT_USAGE 2
#define FW_EXIT_ALERT 3

void cli_defaults(struct fw_config *cfg);

/* "ADDR:PORT", "[V6ADDR]:PORT" or ":PORT" (loopback), numeric only. */
int parse_listen_addr(const char *s, struct sockaddr_storage *out);

#define FW_VERSION "0.1.0"

/* 0: run; 1: --help (the caller prints cli_usage); 2: --version; -EINVAL:
 * bad input, err holds one printable line naming the flag and the value.
 * Everything after a "--" is the command to run (cfg->child_argv). */
int cli_parse(int argc, char **argv, struct fw_config *cfg, char *err, size_t errlen);

void cli_usage(FILE *out);

/* The part of cfg the tracker needs. */
struct fw2_policy cli_tracker_policy(const struct fw_config *cfg);

/* 1 if addr is inside any of the n CIDRs, or the list is empty. */
int cidr_list_match(const struct cidr *list, int n, uint16_t family, const uint8_t *addr);

/* 1 if the remote address passes the --peer filter (or there is none). */
int cli_peer_allowed(const struct fw_config *cfg, uint16_t family, const uint8_t *addr);

/* Every filter at once, for records the kernel did not filter (scans). */
int cli_socket_allowed(const struct fw_config *cfg, uint16_t family, uint16_t sport, uint16_t dport,
		       const uint8_t *daddr);

#endif
