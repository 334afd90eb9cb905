/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Finding network namespaces by inode number. No namespace fd is kept open
 * between scans: holding one would keep a deleted namespace alive. */
#ifndef FW_NETNS_H
#define FW_NETNS_H

#include <linux/types.h>

struct netns_ref {
	__u32 inum;
	char path[64];   /* last path that led to it: /proc/PID/ns/net or /run/netns/NAME */
};

struct netns_set {
	struct netns_ref *refs;
	int n, cap;
};

/* Rebuilds the set from /proc/self, every /run/netns entry and /proc/[0-9]+. 0 or -errno. */
int netns_enumerate(struct netns_set *set);
void netns_set_free(struct netns_set *set);

/* fd of the namespace with inode inum (O_RDONLY|O_CLOEXEC), trying the
 * known path first and re-enumerating once if it moved. -ENOENT if gone. */
int netns_open(struct netns_set *set, __u32 inum);

/* Inode of the caller's network namespace, or 0. */
__u32 netns_self(void);

#endif
