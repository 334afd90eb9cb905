/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --on-alert hooks: each alert state change runs the command once, with the
 * alert's JSON on stdin and key fields in FINWATCH_* variables. No shell is
 * involved (argv is the command line split on spaces), so nothing in an
 * event (a comm, an address) can be interpreted as shell syntax. Hooks never
 * block monitoring: at most max_running run at once, later ones wait in a
 * bounded queue, each is killed after the timeout, failures are counted and
 * reported.
 */
#ifndef FW_HOOKS_H
#define FW_HOOKS_H

#include <stddef.h>
#include <linux/types.h>

#define HOOK_MAX_ENV 8

struct hook_runner;

/* Returns NULL (errno set) if the command line is empty or too long. */
struct hook_runner *hook_new(const char *cmdline, __u64 timeout_ns, int max_running, int max_queue);

/* Queues one run. env holds up to HOOK_MAX_ENV "NAME=value" strings
 * (copied). 0, or -ENOSPC when the queue is full (counted as dropped). */
int hook_submit(struct hook_runner *h, const char *stdin_data, size_t len, const char *const *env,
		int n_env, __u64 now_ns);

/* Reaps finished hooks, kills overdue ones, starts queued ones. report()
 * receives one line per failure. */
void hook_poll(struct hook_runner *h, __u64 now_ns, void (*report)(void *ctx, const char *msg),
	       void *ctx);

/* Waits up to grace_ns for running hooks, kills the rest, frees. */
void hook_free(struct hook_runner *h, __u64 grace_ns);

#endif
