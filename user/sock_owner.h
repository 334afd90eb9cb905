/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Which process holds a socket inode: the /proc/PID/fd walk `ss -p` does,
 * run only for sockets a scan found without a known closing process. */
#ifndef FW_SOCK_OWNER_H
#define FW_SOCK_OWNER_H

#include <linux/types.h>

struct sock_owner_req {
	__u64 cookie;
	__u32 ino;
	__u32 pid;           /* out: 0 if not found */
	char comm[16];       /* out */
};

/* Fills pid/comm of every request whose inode an open fd refers to.
 * proc_root is "/proc" (tests pass a fake tree). Returns how many were
 * found, or -errno if proc_root cannot be read. between(ctx), if set, is
 * called every few processes so a caller can keep draining its events. */
int sock_owner_resolve(const char *proc_root, struct sock_owner_req *reqs, int n,
		       void (*between)(void *ctx), void *ctx);

#endif
