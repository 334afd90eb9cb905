// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "event.h"
#include "scan.h"
#include "warn.h"

#define SCAN_BUF (64 * 1024)

int scanner_init(struct fw_scanner *sc, struct bpf_program *iter_prog,
		 struct bpf_program *owners_prog)
{
	memset(sc, 0, sizeof(*sc));
	sc->self_fd = -1;
	sc->buf = malloc(SCAN_BUF);
	if (!sc->buf)
		return -ENOMEM;
	sc->link = bpf_program__attach_iter(iter_prog, NULL);
	if (!sc->link) {
		int err = -errno;

		free(sc->buf);
		sc->buf = NULL;
		return err;
	}
	/* Optional: without it the holders come from a /proc walk. */
	if (owners_prog)
		sc->owners_link = bpf_program__attach_iter(owners_prog, NULL);
	sc->self_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	sc->self_inum = netns_self();
	netns_enumerate(&sc->nsset);
	return 0;
}

void scanner_free(struct fw_scanner *sc)
{
	bpf_link__destroy(sc->link);
	sc->link = NULL;
	bpf_link__destroy(sc->owners_link);
	sc->owners_link = NULL;
	if (sc->self_fd >= 0)
		close(sc->self_fd);
	sc->self_fd = -1;
	netns_set_free(&sc->nsset);
	free(sc->buf);
	sc->buf = NULL;
}

/* /proc/sys/net resolves to the reader's current network namespace. */
static int read_fin_timeout(void)
{
	char b[32] = "";
	int fd = open("/proc/sys/net/ipv4/tcp_fin_timeout", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	return atoi(b);
}

int scanner_in_netns(struct fw_scanner *sc, __u32 inum, int (*fn)(void *ctx), void *ctx)
{
	int ns_fd, ret;

	if (inum == sc->self_inum)
		return fn(ctx);
	ns_fd = netns_open(&sc->nsset, inum);
	if (ns_fd < 0)
		return ns_fd;
	if (setns(ns_fd, CLONE_NEWNET)) {
		ret = -errno;
		close(ns_fd);
		return ret;
	}
	ret = fn(ctx);
	/* Failing to return would leave every later socket in the wrong
	 * namespace: nothing sensible can continue. */
	if (setns(sc->self_fd, CLONE_NEWNET)) {
		fw_warn(LOG_CRIT, "cannot return to the original network namespace: %s",
			strerror(errno));
		abort();
	}
	close(ns_fd);
	return ret;
}

struct iter_open {
	struct fw_scanner *sc;
	int *fin_timeout_s;
};

/* Inside the namespace: the iterator walks the namespace it is created in,
 * and /proc/sys/net resolves to the reader's namespace. */
static int open_iter(void *ctx)
{
	struct iter_open *io = ctx;
	int fd;

	*io->fin_timeout_s = read_fin_timeout();
	fd = bpf_iter_create(bpf_link__fd(io->sc->link));
	return fd < 0 ? -errno : fd;
}

static __u64 cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/*
 * Reads an iterator to its end in records of rec_size bytes. Between
 * chunks sc->between runs; its CPU is added to *drain_cpu so the walk's
 * own cost can be told apart. Returns 0 or -errno.
 */
static int iter_read_all(struct fw_scanner *sc, int iter_fd, size_t rec_size,
			 void (*rec)(void *ctx, const void *data), void *ctx, __u64 *drain_cpu)
{
	size_t have = 0;

	for (;;) {
		ssize_t n = read(iter_fd, sc->buf + have, SCAN_BUF - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		have += (size_t)n;
		size_t off = 0;

		for (; have - off >= rec_size; off += rec_size)
			rec(ctx, sc->buf + off);
		memmove(sc->buf, sc->buf + off, have - off);
		have -= off;
		if (sc->between) {
			__u64 d0 = cpu_ns();

			sc->between(sc->between_ctx);
			*drain_cpu += cpu_ns() - d0;
		}
	}
	if (have)
		sc->malformed++;
	return 0;
}

struct scan_read {
	struct fw_scanner *sc;
	__u32 inum;
	scan_rec_fn fn;
	void *ctx;
};

static void on_scan_bytes(void *ctx, const void *data)
{
	struct scan_read *sr = ctx;
	struct fw_scan_rec r;

	if (fw_scan_rec_decode(data, sizeof(r), &r))
		sr->sc->malformed++;
	else if (r.netns == sr->inum) {
		sr->sc->records++;
		sr->fn(sr->ctx, &r);
	}
}

int scanner_scan(struct fw_scanner *sc, __u32 inum, scan_rec_fn fn, void *ctx, int *fin_timeout_s)
{
	struct iter_open io = { sc, fin_timeout_s };
	struct scan_read sr = { sc, inum, fn, ctx };
	struct timespec t0, t1;
	__u64 drain_cpu = 0, c0;
	int iter_fd, err;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* The CPU budget counts CPU, not waiting for one on a busy host. */
	c0 = cpu_ns();
	*fin_timeout_s = -1;
	iter_fd = scanner_in_netns(sc, inum, open_iter, &io);
	if (iter_fd < 0)
		return iter_fd;
	err = iter_read_all(sc, iter_fd, sizeof(struct fw_scan_rec), on_scan_bytes, &sr, &drain_cpu);
	close(iter_fd);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	{
		__u64 cpu = cpu_ns() - c0;

		sc->scan_cpu_ns_total += cpu > drain_cpu ? cpu - drain_cpu : 0;
	}
	sc->scans++;
	sc->scan_ns_total += (__u64)(t1.tv_sec - t0.tv_sec) * 1000000000ULL + t1.tv_nsec - t0.tv_nsec;
	return err;
}

struct owners_read {
	struct fw_scanner *sc;
	owner_rec_fn fn;
	void *ctx;
};

static void on_owner_bytes(void *ctx, const void *data)
{
	struct owners_read *or = ctx;
	struct fw_owner_rec r;

	if (fw_owner_rec_decode(data, sizeof(r), &r))
		or->sc->malformed++;
	else
		or->fn(or->ctx, &r);
}

int scanner_owners(struct fw_scanner *sc, owner_rec_fn fn, void *ctx)
{
	struct owners_read or = { sc, fn, ctx };
	__u64 drain_cpu = 0;
	int fd, err;

	if (!sc->owners_link)
		return -EOPNOTSUPP;
	fd = bpf_iter_create(bpf_link__fd(sc->owners_link));
	if (fd < 0) {
		err = -errno;
	} else {
		err = iter_read_all(sc, fd, sizeof(struct fw_owner_rec), on_owner_bytes, &or,
				    &drain_cpu);
		close(fd);
	}
	/* A walk that fails once is not retried: callers fall back to /proc. */
	if (err) {
		bpf_link__destroy(sc->owners_link);
		sc->owners_link = NULL;
	}
	return err;
}
