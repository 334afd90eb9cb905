// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * One fixed request and its ack: a netlink library (libmnl) would add a
 * dependency for some forty lines, so this is written out by hand.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include "sock_destroy.h"

int sock_destroy_open(void)
{
	struct timeval tv = { .tv_sec = 1 };
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (fd < 0)
		return -errno;
	/* A kernel that never answers must not hang the monitor. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

int sock_destroy(int nl_fd, const struct sock_id *id)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char buf[512];
	static __u32 seq;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DESTROY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	msg.nlh.nlmsg_seq = ++seq;
	msg.req.sdiag_family = (__u8)id->family;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = ~0U;
	msg.req.id.idiag_sport = htons(id->sport);
	msg.req.id.idiag_dport = htons(id->dport);
	memcpy(msg.req.id.idiag_src, id->saddr, id->family == AF_INET6 ? 16 : 4);
	memcpy(msg.req.id.idiag_dst, id->daddr, id->family == AF_INET6 ? 16 : 4);
	msg.req.id.idiag_cookie[0] = (__u32)id->cookie;
	msg.req.id.idiag_cookie[1] = (__u32)(id->cookie >> 32);

	if (sendto(nl_fd, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		n = recv(nl_fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != msg.nlh.nlmsg_seq)
				continue;   /* a stale answer to an earlier, timed-out request */
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EPROTO;
				return e->error;   /* 0 or -errno */
			}
		}
	}
}

int sock_destroy_supported(void)
{
	/* A destroy of a socket that cannot exist: ENOENT means the kernel
	 * supports it, EOPNOTSUPP that it was built without. */
	struct sock_id id = { .family = 2, .sport = 1, .dport = 1, .cookie = 1 };
	int fd = sock_destroy_open(), err;

	if (fd < 0)
		return -1;
	id.saddr[0] = id.daddr[0] = 127;
	err = sock_destroy(fd, &id);
	close(fd);
	return err == -EOPNOTSUPP ? 0 : (err == -ENOENT || err == 0 || err == -ESTALE) ? 1 : -1;
}
