// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include "hooks.h"

#define HOOK_MAX_ARGS 32
#define HOOK_MAX_INPUT 60000   /* below the pipe buffer: one write, never blocks */

extern char **environ;

struct hook_job {
	char *input;
	size_t len;
	char *env[HOOK_MAX_ENV];
	int n_env;
};

struct hook_proc {
	pid_t pid;
	__u64 started_ns;
	int killed;
};

/* Counted for the record; every failure is also reported as it happens. */
struct hook_stats {
	__u64 started, ok, failed, timed_out, dropped;
};

struct hook_runner {
	char *cmd;                    /* owned copy, split in place */
	char *argv[HOOK_MAX_ARGS + 1];
	__u64 timeout_ns;
	int max_running, max_queue;
	struct hook_proc *running;
	int n_running;
	struct hook_job *queue;       /* ring */
	int q_head, q_len;
	struct hook_stats st;
};

struct hook_runner *hook_new(const char *cmdline, __u64 timeout_ns, int max_running, int max_queue)
{
	struct hook_runner *h;
	int argc = 0;

	if (!cmdline || max_running < 1 || max_queue < 1) {
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->cmd = strdup(cmdline);
	h->running = calloc((size_t)max_running, sizeof(*h->running));
	h->queue = calloc((size_t)max_queue, sizeof(*h->queue));
	if (!h->cmd || !h->running || !h->queue) {
		hook_free(h, 0);
		errno = ENOMEM;
		return NULL;
	}
	for (char *save = NULL, *tok = strtok_r(h->cmd, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (argc == HOOK_MAX_ARGS) {
			hook_free(h, 0);
			errno = E2BIG;
			return NULL;
		}
		h->argv[argc++] = tok;
	}
	if (!argc) {
		hook_free(h, 0);
		errno = EINVAL;
		return NULL;
	}
	h->timeout_ns = timeout_ns;
	h->max_running = max_running;
	h->max_queue = max_queue;
	return h;
}

static void job_free(struct hook_job *j)
{
	free(j->input);
	for (int i = 0; i < j->n_env; i++)
		free(j->env[i]);
	memset(j, 0, sizeof(*j));
}

int hook_submit(struct hook_runner *h, const char *data, size_t len, const char *const *env, int n_env,
		__u64 now_ns)
{
	struct hook_job *j;

	if (h->q_len == h->max_queue) {
		h->st.dropped++;
		return -ENOSPC;
	}
	if (len > HOOK_MAX_INPUT)
		len = HOOK_MAX_INPUT;
	j = &h->queue[(h->q_head + h->q_len) % h->max_queue];
	j->input = malloc(len ? len : 1);
	if (!j->input) {
		h->st.dropped++;
		return -ENOMEM;
	}
	memcpy(j->input, data, len);
	j->len = len;
	for (int i = 0; i < n_env && i < HOOK_MAX_ENV; i++) {
		j->env[i] = strdup(env[i]);
		if (j->env[i])
			j->n_env++;
	}
	h->q_len++;
	return 0;
}

/* Starts one job: stdin is a pipe holding the whole alert, closed after. */
static int start_job(struct hook_runner *h, struct hook_job *j, __u64 now_ns, char *err, size_t errlen)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int pfd[2], n = 0, rc;
	char **envp;
	pid_t pid;

	for (char **e = environ; *e; e++)
		n++;
	envp = calloc((size_t)n + HOOK_MAX_ENV + 1, sizeof(*envp));
	if (!envp)
		return -ENOMEM;
	n = 0;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "FINWATCH_", 9))
			envp[n++] = *e;
	for (int i = 0; i < j->n_env; i++)
		envp[n++] = j->env[i];
	if (pipe2(pfd, O_CLOEXEC)) {
		free(envp);
		return -errno;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[0], STDIN_FILENO);
	/* stdout may be finwatch's JSON stream: what a hook prints (a
	 * webhook's reply) goes to stderr instead. */
	posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
	/* Its own process group, so a timeout kills what it started too. */
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&attr, 0);
	rc = posix_spawnp(&pid, h->argv[0], &fa, &attr, h->argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	close(pfd[0]);
	if (rc) {
		close(pfd[1]);
		snprintf(err, errlen, "--on-alert: cannot run '%s': %s", h->argv[0], strerror(rc));
		return -rc;
	}
	/* Fits in the pipe buffer: never blocks. A hook that exits without
	 * reading gets EPIPE here, which SIGPIPE-ignoring callers survive. */
	if (j->len && write(pfd[1], j->input, j->len) < 0) {
		/* the hook chose not to read its input: not an error */
	}
	close(pfd[1]);
	h->running[h->n_running++] = (struct hook_proc){ .pid = pid, .started_ns = now_ns };
	h->st.started++;
	return 0;
}

void hook_poll(struct hook_runner *h, __u64 now_ns, void (*report)(void *ctx, const char *msg), void *ctx)
{
	char msg[256];

	for (int i = 0; i < h->n_running;) {
		struct hook_proc *p = &h->running[i];
		int status;
		pid_t r = waitpid(p->pid, &status, WNOHANG);

		if (r == 0) {
			if (!p->killed && now_ns - p->started_ns > h->timeout_ns) {
				kill(-p->pid, SIGKILL);
				p->killed = 1;
				h->st.timed_out++;
				snprintf(msg, sizeof(msg), "--on-alert: hook pid %d ran longer than %llu ms; killed",
					 (int)p->pid, (unsigned long long)(h->timeout_ns / 1000000));
				if (report)
					report(ctx, msg);
			}
			i++;
			continue;
		}
		/* Whatever the hook left running in its group goes with it. */
		if (r > 0)
			kill(-p->pid, SIGKILL);
		if (r > 0 && !p->killed) {
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
				h->st.ok++;
			} else {
				h->st.failed++;
				if (WIFEXITED(status))
					snprintf(msg, sizeof(msg), "--on-alert: hook pid %d exited with status %d",
						 (int)p->pid, WEXITSTATUS(status));
				else
					snprintf(msg, sizeof(msg), "--on-alert: hook pid %d killed by signal %d",
						 (int)p->pid, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
				if (report)
					report(ctx, msg);
			}
		}
		h->running[i] = h->running[--h->n_running];
	}
	while (h->q_len && h->n_running < h->max_running) {
		struct hook_job *j = &h->queue[h->q_head];
		int err = start_job(h, j, now_ns, msg, sizeof(msg));

		if (err) {
			h->st.failed++;
			if (report)
				report(ctx, msg);
		}
		job_free(j);
		h->q_head = (h->q_head + 1) % h->max_queue;
		h->q_len--;
	}
}

static __u64 now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

void hook_free(struct hook_runner *h, __u64 grace_ns)
{
	if (!h)
		return;
	if (h->running) {
		__u64 end = now_mono() + grace_ns;
		struct timespec ms = { 0, 10 * 1000 * 1000 };

		/* Queued jobs are run if time allows: an alert resolved at exit
		 * should still reach the hook. */
		while ((h->n_running || h->q_len) && now_mono() < end) {
			hook_poll(h, now_mono(), NULL, NULL);
			nanosleep(&ms, NULL);
		}
		for (int i = 0; i < h->n_running; i++) {
			kill(-h->running[i].pid, SIGKILL);
			waitpid(h->running[i].pid, NULL, 0);
		}
	}
	if (h->queue)
		for (int i = 0; i < h->max_queue; i++)
			job_free(&h->queue[i]);
	free(h->queue);
	free(h->running);
	free(h->cmd);
	free(h);
}
