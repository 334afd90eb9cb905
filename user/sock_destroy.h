/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Kill one TCP socket by 4-tuple and cookie with sock_diag SOCK_DESTROY
 * (what `ss -K` sends; needs CONFIG_INET_DIAG_DESTROY and CAP_NET_ADMIN). It
 * kills full sockets (the peer gets an RST) and timewait ones (silently). */
#ifndef FW_SOCK_DESTROY_H
#define FW_SOCK_DESTROY_H

#include <linux/types.h>

struct sock_id {
	__u16 family;        /* 2 or 10 */
	__u16 sport, dport;  /* host order */
	__u8 saddr[16], daddr[16];
	__u64 cookie;        /* the kernel refuses a socket whose cookie differs */
};

/* Opens a sock_diag netlink socket in the caller's current network
 * namespace. fd or -errno. */
int sock_destroy_open(void);

/* 0 when destroyed; -ENOENT gone already; -ESTALE cookie mismatch (the
 * 4-tuple was reused); -EOPNOTSUPP kernel without CONFIG_INET_DIAG_DESTROY;
 * -EPERM without CAP_NET_ADMIN; other -errno. */
int sock_destroy(int nl_fd, const struct sock_id *id);

/* Whether the caller's namespace's kernel can destroy sockets: 1 yes, 0
 * no (built without CONFIG_INET_DIAG_DESTROY), -1 could not tell. */
int sock_destroy_supported(void);

#endif
