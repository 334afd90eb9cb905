// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "wrapper.h"

/* finwatch's own cgroup v2 path ("0::/path" in /proc/self/cgroup). */
static int own_cgroup(char *out, size_t len)
{
	char line[4096];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(out, len, "%s", line + 3);
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

int wrapper_cgroup(struct wrapper *w, const char *mnt, const char *root, char *why, size_t len)
{
	char own[4096], rel[4096];
	size_t rl = strcmp(root, "/") ? strlen(root) : 0;
	int err = own_cgroup(own, sizeof(own));

	if (err) {
		snprintf(why, len, "finwatch's cgroup v2 is unknown (%s)", strerror(-err));
		return err;
	}
	/* Our path is in our cgroup namespace's terms; the mount shows the
	 * hierarchy from root. */
	snprintf(rel, sizeof(rel), "%s", rl && !strncmp(own, root, rl) ? own + rl : own);
	if (strcmp(rel, "/") == 0)
		rel[0] = '\0';
	if ((size_t)snprintf(w->cg_fs, sizeof(w->cg_fs), "%s%s/finwatch-%d", mnt, rel, (int)getpid()) >=
	    sizeof(w->cg_fs)) {
		w->cg_fs[0] = '\0';
		snprintf(why, len, "cgroup path too long");
		return -ENAMETOOLONG;
	}
	if (mkdir(w->cg_fs, 0755)) {
		err = -errno;
		snprintf(why, len, "cannot create %s (%s)", w->cg_fs, strerror(errno));
		w->cg_fs[0] = '\0';
		return err;
	}
	snprintf(w->cg_path, sizeof(w->cg_path), "%s%s/finwatch-%d", rl ? root : "", rel, (int)getpid());
	return 0;
}

int wrapper_spawn(struct wrapper *w, char **argv)
{
	char procs[PATH_MAX + 16];
	int go[2], res[2], err = 0;
	pid_t pid;

	/* go: the parent's word to exec (EOF: finwatch failed, never run).
	 * res: close-on-exec, so a successful exec closes it and a failed
	 * join or exec writes its errno. */
	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(res, O_CLOEXEC)) {
		err = -errno;
		close(go[0]);
		close(go[1]);
		return err;
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", w->cg_fs);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(go[0]);
		close(go[1]);
		close(res[0]);
		close(res[1]);
		return err;
	}
	if (pid == 0) {
		static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGCHLD };
		char c;

		close(go[1]);
		close(res[0]);
		for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			signal(sigs[i], SIG_DFL);
		if (w->cg_fs[0]) {
			int fd = open(procs, O_WRONLY | O_CLOEXEC);

			if (fd < 0 || write(fd, "0\n", 2) != 2)
				err = -errno;
			if (fd >= 0)
				close(fd);
		}
		if (read(go[0], &c, 1) != 1)
			_exit(127);     /* finwatch did not start: CMD is not run */
		if (!err) {
			execvp(argv[0], argv);
			err = -errno;
		}
		if (write(res[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(res[1]);
	w->pid = pid;
	w->go_fd = go[1];
	w->err_fd = res[0];
	return 0;
}

int wrapper_go(struct wrapper *w)
{
	int err = 0;

	if (write(w->go_fd, "g", 1) != 1)
		err = -errno;
	close(w->go_fd);
	w->go_fd = -1;
	if (!err && read(w->err_fd, &err, sizeof(err)) != sizeof(err))
		err = 0;        /* closed by a successful exec */
	close(w->err_fd);
	w->err_fd = -1;
	if (err) {
		waitpid(w->pid, &w->status, 0);
		w->exited = 1;
	}
	return err;
}

int wrapper_poll(struct wrapper *w)
{
	if (w->exited || !w->pid)
		return w->exited;
	if (waitpid(w->pid, &w->status, WNOHANG) == w->pid)
		w->exited = 1;
	return w->exited;
}

void wrapper_forward(const struct wrapper *w, int sig)
{
	if (w->pid && !w->exited)
		kill(w->pid, sig);
}

int wrapper_exit_code(const struct wrapper *w)
{
	if (WIFEXITED(w->status))
		return WEXITSTATUS(w->status);
	if (WIFSIGNALED(w->status))
		return 128 + WTERMSIG(w->status);
	return 1;
}

int wrapper_leftover_procs(const struct wrapper *w)
{
	char path[PATH_MAX + 16], line[64];
	FILE *f;
	int n = 0;

	if (!w->cg_fs[0])
		return -1;
	snprintf(path, sizeof(path), "%s/cgroup.procs", w->cg_fs);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

void wrapper_cleanup(struct wrapper *w)
{
	/* Never told to go: it exits without running CMD. */
	if (w->go_fd > 0) {
		close(w->go_fd);
		close(w->err_fd);
		w->go_fd = w->err_fd = -1;
		if (w->pid)
			waitpid(w->pid, &w->status, 0);
	}
	if (w->cg_fs[0] && !rmdir(w->cg_fs))
		w->cg_fs[0] = '\0';
}
