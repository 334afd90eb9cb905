/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * finwatch [options] -- CMD: run CMD in a cgroup of its own (a child of
 * finwatch's, where cgroup v2 is writable), so the run watches CMD's
 * process tree only, forward signals to it, and learn how it ended.
 */
#ifndef FW_WRAPPER_H
#define FW_WRAPPER_H

#include <limits.h>
#include <sys/types.h>

struct wrapper {
	char cg_fs[PATH_MAX];   /* the child cgroup's directory, "" if none */
	char cg_path[PATH_MAX]; /* ... as a path in the hierarchy */
	pid_t pid;              /* CMD, 0 before start */
	int status;             /* waitpid status once exited */
	int exited;
	int go_fd, err_fd;      /* to the waiting child: go; from it: exec's errno */
};

/*
 * Makes the cgroup CMD will run in: finwatch-<pid> below finwatch's own
 * cgroup (from /proc/self/cgroup) on the cgroup2 mount mnt whose root in
 * the hierarchy is root. 0, or -errno with why (one line) filled.
 */
int wrapper_cgroup(struct wrapper *w, const char *mnt, const char *root, char *why, size_t len);

/*
 * Forks CMD's process now, while finwatch still has every privilege (CMD
 * runs with what finwatch was given, not what finwatch keeps), in the
 * cgroup when there is one; it waits there until wrapper_go(). 0 or -errno.
 */
int wrapper_spawn(struct wrapper *w, char **argv);

/* Lets CMD exec (no shell). 0, or -errno from exec (CMD did not run). If
 * finwatch exits without calling it, CMD never runs. */
int wrapper_go(struct wrapper *w);

/* 1 once CMD has exited (reaped), 0 while it runs. */
int wrapper_poll(struct wrapper *w);

/* Passes a signal on to CMD (INT, TERM, HUP, QUIT, USR1, USR2). */
void wrapper_forward(const struct wrapper *w, int sig);

/* CMD's status as a shell reports it: its exit code, or 128 + signal. */
int wrapper_exit_code(const struct wrapper *w);

/* Processes still in CMD's cgroup (left running by it), -1 if unknown. */
int wrapper_leftover_procs(const struct wrapper *w);

/* Removes the cgroup if nothing runs in it any more. */
void wrapper_cleanup(struct wrapper *w);

#endif
