// SPDX-License-Identifier: GPL-2.0
/*
 * fwpeer: test traffic tool for finwatch. Creates TCP connections that end in
 * precise close scenarios (held or orphaned FIN_WAIT_2, RST, passive/active
 * close) so the e2e tests can check what finwatch reports.
 *
 *   fwpeer server --listen ADDR:PORT --mode hold|close|delay|rst|closefirst
 *                 [--close-after MS] [--duration SEC]
 *   fwpeer client --connect ADDR:PORT [--count N] [--bind ADDR]
 *                 [--how close|shutdown|rst|none] [--hold-sec S]
 *                 [--comm NAME] [--interval-ms MS]
 *   fwpeer churn  --connect ADDR:PORT --count N [--bind-prefix A.B.C.D/LEN]
 *                 [--how close|rst] [--comm NAME] [--interval-ms MS]
 *
 * IPv6 addresses are written [addr]:port. Every subcommand prints "ready"
 * (flushed) once set up; errors go to stderr with exit 1, bad arguments give a
 * one-line error and exit 2. Only libc is used.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_COUNT 100000		/* connections per client/churn run */
#define MAX_MS (24L * 3600 * 1000)	/* upper bound for any MS option */
#define MAX_SEC (24L * 3600)		/* upper bound for any SEC option */
#define CONNECT_TIMEOUT_SEC 5
#define PAYLOAD "fwpeer\n"

static const char *subcmd = "";

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fwpeer%s%s: ", *subcmd ? " " : "", subcmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see fwpeer --help)\n", stderr);
	exit(2);
}

/* Logs "fwpeer SUB: MSG: strerror(errno)" and exits 1. */
static void die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	fprintf(stderr, "fwpeer %s: ", subcmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(err));
	exit(1);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fwpeer %s: ", subcmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void usage(void)
{
	fputs(
"usage:\n"
"  fwpeer server --listen ADDR:PORT --mode MODE [--close-after MS] [--duration SEC]\n"
"      MODE: hold       read until EOF, never close (client sits in FIN_WAIT_2)\n"
"            close      read until EOF, then close\n"
"            delay      read until EOF, wait --close-after MS (default 1000), close\n"
"            rst        read until EOF, then close with SO_LINGER 0 (RST); with\n"
"                       --close-after MS, that long after EOF\n"
"            closefirst send FIN at once (shutdown SHUT_WR), discard input,\n"
"                       close on EOF (a bare close() would turn into RST when\n"
"                       the client's bytes arrive)\n"
"      --duration SEC: exit 0 after SEC seconds (0/omitted: until SIGTERM/SIGINT)\n"
"      PORT 0 picks a free port and prints 'port N' before 'ready'.\n"
"  fwpeer client --connect ADDR:PORT [--count N] [--bind ADDR[:PORT]]\n"
"                [--how close|shutdown|rst|none] [--hold-sec S] [--comm NAME]\n"
"                [--interval-ms MS]\n"
"      prints 'pid PID', opens N (default 1) connections one after another,\n"
"      writes a few bytes on each and ends it with --how (default close), prints\n"
"      'ready', keeps the remaining fds for S seconds (default 0, -1: until\n"
"      SIGTERM/SIGINT) and exits 0. With --how shutdown it closes a socket when\n"
"      the peer closes it and prints 'peer_closed TOTAL' ('peer_reset TOTAL' on RST,\n"
"      'aborted TOTAL' when the socket is destroyed locally).\n"
"  fwpeer churn --connect ADDR:PORT --count N [--bind-prefix A.B.C.D/LEN]\n"
"               [--how close|rst] [--comm NAME] [--interval-ms MS]\n"
"      prints 'pid PID', connects, writes and closes N times (source addresses\n"
"      cycling through the IPv4 prefix), prints 'ready' and exits 0.\n"
"IPv6 addresses are written [addr]:port. Bad arguments exit 2, errors exit 1.\n",
	      stdout);
}

/* ---- argument helpers ---- */

static long parse_long(const char *opt, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		usage_error("%s: '%s' is not an integer in [%ld, %ld]", opt, s, min, max);
	return v;
}

struct addr {
	struct sockaddr_storage ss;
	socklen_t len;
	int family;
	char text[INET6_ADDRSTRLEN + 8];	/* as given, for messages */
};

/*
 * Parses "A.B.C.D:PORT", "[V6]:PORT" and, when the port is optional,
 * "A.B.C.D", "[V6]" or a bare "V6". Returns 0 or -1.
 */
static int parse_addr(const char *s, bool port_required, struct addr *a)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL;
	size_t hlen;
	bool v6 = false;

	memset(a, 0, sizeof(*a));
	if (strlen(s) >= sizeof(a->text))
		return -1;
	strcpy(a->text, s);

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb)
			return -1;
		hlen = (size_t)(rb - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return -1;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		v6 = true;
		if (rb[1] == ':')
			port = rb + 2;
		else if (rb[1] != '\0')
			return -1;
	} else {
		const char *c = strchr(s, ':');

		if (c && strchr(c + 1, ':')) {
			/* bare IPv6 without brackets: no port possible */
			if (strlen(s) >= sizeof(host))
				return -1;
			strcpy(host, s);
			v6 = true;
		} else {
			hlen = c ? (size_t)(c - s) : strlen(s);
			if (hlen == 0 || hlen >= sizeof(host))
				return -1;
			memcpy(host, s, hlen);
			host[hlen] = '\0';
			if (c)
				port = c + 1;
		}
	}

	unsigned long pnum = 0;
	if (port) {
		char *end;

		if (!*port || *port == '-' || *port == '+')
			return -1;
		errno = 0;
		pnum = strtoul(port, &end, 10);
		if (errno || *end || pnum > 65535)
			return -1;
	} else if (port_required) {
		return -1;
	}

	if (v6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -1;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)pnum);
		a->len = sizeof(*sin6);
		a->family = AF_INET6;
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -1;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)pnum);
		a->len = sizeof(*sin);
		a->family = AF_INET;
	}
	return 0;
}

static uint16_t addr_port(const struct addr *a)
{
	if (a->family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
}

static void set_comm(const char *name)
{
	if (name && prctl(PR_SET_NAME, name, 0, 0, 0) != 0)
		die_errno("prctl(PR_SET_NAME, %s)", name);
}

/* ---- runtime helpers ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int timeout_until(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - now_ms();
	if (left < 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* Raises the soft fd limit to the hard one; returns the resulting soft limit. */
static rlim_t raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		die_errno("getrlimit(RLIMIT_NOFILE)");
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			die_errno("setrlimit(RLIMIT_NOFILE)");
	}
	return rl.rlim_cur;
}

/*
 * SIGINT/SIGTERM are blocked and delivered through a signalfd, so every wait
 * in this program sees them without races. SIGPIPE is ignored (send() uses
 * MSG_NOSIGNAL anyway).
 */
static int setup_signals(void)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		die_errno("sigprocmask");
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		die_errno("signalfd");
	return fd;
}

/* Non-blocking check: has SIGINT/SIGTERM arrived? Consumes it. */
static bool signal_pending(int sfd)
{
	struct signalfd_siginfo si;

	return read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si);
}

/* Sleeps up to ms; returns true if a signal arrived meanwhile. */
static bool sleep_or_signal(int sfd, long ms)
{
	int64_t deadline = now_ms() + ms;
	struct pollfd p = { .fd = sfd, .events = POLLIN };

	for (;;) {
		int n = poll(&p, 1, timeout_until(deadline));

		if (n < 0 && errno != EINTR)
			die_errno("poll");
		if (n > 0) {
			signal_pending(sfd);
			return true;
		}
		if (now_ms() >= deadline)
			return false;
	}
}

static void close_rst(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) != 0)
		die_errno("setsockopt(SO_LINGER)");
	close(fd);
}

/* ---- server ---- */

enum smode { S_HOLD, S_CLOSE, S_DELAY, S_RST, S_CLOSEFIRST };

struct pending {		/* delay mode: fds waiting for their close time */
	int fd;
	int64_t close_at;
	struct pending *next;
};

static int cmd_server(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "mode", required_argument, NULL, 'm' },
		{ "close-after", required_argument, NULL, 'a' },
		{ "duration", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *listen_s = NULL, *mode_s = NULL;
	long close_after = -1, duration = 0;
	struct addr la;
	enum smode mode;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen_s = optarg; break;
		case 'm': mode_s = optarg; break;
		case 'a': close_after = parse_long("--close-after", optarg, 0, MAX_MS); break;
		case 'd': duration = parse_long("--duration", optarg, 0, MAX_SEC); break;
		case 'h': usage(); return 0;
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			usage_error("bad option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!listen_s)
		usage_error("--listen ADDR:PORT is required");
	if (parse_addr(listen_s, true, &la) != 0)
		usage_error("--listen: bad address '%s' (want A.B.C.D:PORT or [V6]:PORT)", listen_s);
	if (!mode_s)
		usage_error("--mode is required (hold|close|delay|rst|closefirst)");
	if (!strcmp(mode_s, "hold"))
		mode = S_HOLD;
	else if (!strcmp(mode_s, "close"))
		mode = S_CLOSE;
	else if (!strcmp(mode_s, "delay"))
		mode = S_DELAY;
	else if (!strcmp(mode_s, "rst"))
		mode = S_RST;
	else if (!strcmp(mode_s, "closefirst"))
		mode = S_CLOSEFIRST;
	else
		usage_error("--mode: unknown mode '%s' (hold|close|delay|rst|closefirst)", mode_s);
	if (close_after >= 0 && mode != S_DELAY && mode != S_RST)
		usage_error("--close-after only applies to --mode delay and rst");
	/* rst without --close-after resets at once; with it, after our ACK of
	 * the peer's FIN has surely left (the peer then sits in FIN_WAIT_2). */
	if (close_after < 0 && mode == S_DELAY)
		close_after = 1000;

	raise_nofile();
	int sfd = setup_signals();

	int lfd = socket(la.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die_errno("socket");
	int one = 1;
	if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
		die_errno("setsockopt(SO_REUSEADDR)");
	if (la.family == AF_INET6 &&
	    setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)
		die_errno("setsockopt(IPV6_V6ONLY)");
	if (bind(lfd, (struct sockaddr *)&la.ss, la.len) != 0)
		die_errno("bind %s", la.text);
	if (listen(lfd, SOMAXCONN) != 0)
		die_errno("listen %s", la.text);
	if (addr_port(&la) == 0) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		if (getsockname(lfd, (struct sockaddr *)&ss, &sl) != 0)
			die_errno("getsockname");
		out("port %u", ss.ss_family == AF_INET6 ?
		    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
		    ntohs(((struct sockaddr_in *)&ss)->sin_port));
	}

	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die_errno("epoll_create1");
	struct epoll_event ev = { .events = EPOLLIN };
	ev.data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0)
		die_errno("epoll_ctl(listen)");
	ev.data.fd = sfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) != 0)
		die_errno("epoll_ctl(signalfd)");

	out("ready");

	struct pending *head = NULL, *tail = NULL;
	int64_t end = duration > 0 ? now_ms() + duration * 1000 : -1;
	static char buf[65536];
	struct epoll_event evs[256];
	bool stop = false;

	while (!stop) {
		int64_t now = now_ms();

		/* all delays are equal, so the FIFO is ordered by close time */
		while (head && head->close_at <= now) {
			struct pending *p = head;

			if (mode == S_RST)
				close_rst(p->fd);
			else
				close(p->fd);
			head = p->next;
			if (!head)
				tail = NULL;
			free(p);
		}
		if (end >= 0 && now >= end)
			break;
		int timeout = timeout_until(end);
		if (head) {
			int t = timeout_until(head->close_at);

			if (timeout < 0 || t < timeout)
				timeout = t;
		}

		int n = epoll_wait(ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die_errno("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == sfd) {
				stop = true;
				continue;
			}
			if (fd == lfd) {
				for (;;) {
					int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

					if (cfd < 0) {
						if (errno == EAGAIN || errno == EWOULDBLOCK)
							break;
						if (errno == EINTR || errno == ECONNABORTED ||
						    errno == EPROTO)
							continue;
						die_errno("accept");
					}
					if (mode == S_CLOSEFIRST && shutdown(cfd, SHUT_WR) != 0) {
						close(cfd);	/* already reset by the peer */
						continue;
					}
					struct epoll_event cev = { .events = EPOLLIN };
					cev.data.fd = cfd;
					if (epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &cev) != 0)
						die_errno("epoll_ctl(add conn)");
				}
				continue;
			}

			/* a connection: drain what is there, act on EOF */
			ssize_t r;
			do {
				r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			} while (r > 0 || (r < 0 && errno == EINTR));
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				continue;
			if (r < 0) {
				/* reset or other error: nothing left to send, just drop it */
				close(fd);
				continue;
			}
			/* r == 0: the peer sent FIN */
			switch (mode) {
			case S_HOLD:
				/* keep the fd (and so our side of the connection) until exit */
				if (epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) != 0)
					die_errno("epoll_ctl(del)");
				break;
			case S_CLOSE:
			case S_CLOSEFIRST:
				close(fd);
				break;
			case S_RST:
				if (close_after < 0) {
					close_rst(fd);
					break;
				}
				/* reset later, from the pending list */
				__attribute__((fallthrough));
			case S_DELAY: {
				struct pending *p = malloc(sizeof(*p));

				if (!p)
					die("out of memory");
				if (epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) != 0)
					die_errno("epoll_ctl(del)");
				p->fd = fd;
				p->close_at = now_ms() + close_after;
				p->next = NULL;
				if (tail)
					tail->next = p;
				else
					head = p;
				tail = p;
				break;
			}
			}
		}
	}
	while (head) {
		struct pending *p = head;

		head = p->next;
		free(p);
	}
	return 0;		/* exit() closes every remaining fd */
}

/* ---- client ---- */

enum chow { H_CLOSE, H_SHUTDOWN, H_RST, H_NONE };

static int connect_one(const struct addr *dst, const struct addr *src, long idx)
{
	struct timeval tv = { .tv_sec = CONNECT_TIMEOUT_SEC };
	int fd = socket(dst->family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die_errno("socket (connection %ld)", idx);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		die_errno("setsockopt(SO_SNDTIMEO)");
	if (src) {
		if (addr_port(src) != 0) {
			int one = 1;

			if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
				die_errno("setsockopt(SO_REUSEADDR)");
		}
		if (bind(fd, (const struct sockaddr *)&src->ss, src->len) != 0)
			die_errno("bind %s (connection %ld)", src->text, idx);
	}
	if (connect(fd, (const struct sockaddr *)&dst->ss, dst->len) != 0) {
		if (errno == EINPROGRESS || errno == EAGAIN)
			die("connect to %s (connection %ld): timed out after %d s",
			    dst->text, idx, CONNECT_TIMEOUT_SEC);
		die_errno("connect to %s (connection %ld)", dst->text, idx);
	}
	if (send(fd, PAYLOAD, sizeof(PAYLOAD) - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof(PAYLOAD) - 1))
		die_errno("send to %s (connection %ld)", dst->text, idx);
	return fd;
}

static int cmd_client(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "count", required_argument, NULL, 'n' },
		{ "bind", required_argument, NULL, 'b' },
		{ "how", required_argument, NULL, 'w' },
		{ "hold-sec", required_argument, NULL, 's' },
		{ "comm", required_argument, NULL, 'C' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *connect_s = NULL, *bind_s = NULL, *how_s = "close", *comm = NULL;
	long count = 1, hold = 0, interval = 0;
	struct addr dst, src;
	enum chow how;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': connect_s = optarg; break;
		case 'n': count = parse_long("--count", optarg, 1, MAX_COUNT); break;
		case 'b': bind_s = optarg; break;
		case 'w': how_s = optarg; break;
		case 's': hold = parse_long("--hold-sec", optarg, -1, MAX_SEC); break;
		case 'C': comm = optarg; break;
		case 'i': interval = parse_long("--interval-ms", optarg, 0, MAX_MS); break;
		case 'h': usage(); return 0;
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			usage_error("bad option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!connect_s)
		usage_error("--connect ADDR:PORT is required");
	if (parse_addr(connect_s, true, &dst) != 0 || addr_port(&dst) == 0)
		usage_error("--connect: bad address '%s' (want A.B.C.D:PORT or [V6]:PORT)", connect_s);
	if (bind_s) {
		if (parse_addr(bind_s, false, &src) != 0)
			usage_error("--bind: bad address '%s'", bind_s);
		if (src.family != dst.family)
			usage_error("--bind %s and --connect %s are different address families",
				    bind_s, connect_s);
	}
	if (!strcmp(how_s, "close"))
		how = H_CLOSE;
	else if (!strcmp(how_s, "shutdown"))
		how = H_SHUTDOWN;
	else if (!strcmp(how_s, "rst"))
		how = H_RST;
	else if (!strcmp(how_s, "none"))
		how = H_NONE;
	else
		usage_error("--how: unknown value '%s' (close|shutdown|rst|none)", how_s);
	if (comm && (!*comm || strlen(comm) > 15))
		usage_error("--comm: NAME must be 1-15 characters");

	bool keep = how == H_SHUTDOWN || how == H_NONE;
	rlim_t lim = raise_nofile();
	if (keep && (rlim_t)count + 16 > lim)
		die("--count %ld needs more fds than RLIMIT_NOFILE allows (%llu)",
		    count, (unsigned long long)lim);
	int sfd = setup_signals();
	set_comm(comm);
	out("pid %ld", (long)getpid());

	/* slot 0 is the signalfd, slot i+1 connection i (fd -1: not polled) */
	struct pollfd *pfd = calloc((size_t)count + 1, sizeof(*pfd));
	if (!pfd)
		die("out of memory");
	pfd[0].fd = sfd;
	pfd[0].events = POLLIN;

	for (long i = 0; i < count; i++) {
		if ((i > 0 && interval > 0) ? sleep_or_signal(sfd, interval) : signal_pending(sfd))
			die("interrupted by a signal after %ld of %ld connections", i, count);
		int fd = connect_one(&dst, bind_s ? &src : NULL, i);

		pfd[i + 1].fd = -1;
		switch (how) {
		case H_CLOSE:
			close(fd);
			break;
		case H_SHUTDOWN:
			if (shutdown(fd, SHUT_WR) != 0)
				die_errno("shutdown (connection %ld)", i);
			pfd[i + 1].fd = fd;
			pfd[i + 1].events = POLLIN;
			break;
		case H_RST:
			close_rst(fd);
			break;
		case H_NONE:
			break;	/* kept open (and not watched) until exit */
		}
	}
	out("ready");

	int64_t end = hold < 0 ? -1 : now_ms() + hold * 1000;
	long closed = 0, reset = 0, aborted = 0;
	char buf[4096];

	while (hold != 0) {
		int n = poll(pfd, (nfds_t)count + 1, timeout_until(end));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die_errno("poll");
		}
		if (n == 0 && end >= 0 && now_ms() >= end)
			break;
		if (pfd[0].revents)
			break;	/* SIGTERM/SIGINT */
		for (long i = 1; i <= count && n > 0; i++) {
			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			n--;
			ssize_t r = recv(pfd[i].fd, buf, sizeof(buf), MSG_DONTWAIT);

			if (r > 0 || (r < 0 && (errno == EAGAIN || errno == EINTR)))
				continue;	/* data is discarded */
			if (r == 0) {
				out("peer_closed %ld", ++closed);
			} else if (errno == ECONNRESET || errno == EPIPE) {
				out("peer_reset %ld", ++reset);
			} else if (errno == ECONNABORTED) {
				/* destroyed locally (ss -K, finwatch reaping) */
				out("aborted %ld", ++aborted);
			} else {
				fprintf(stderr, "fwpeer client: connection %ld: %s\n", i - 1,
					strerror(errno));
			}
			close(pfd[i].fd);
			pfd[i].fd = -1;
		}
	}
	free(pfd);
	return 0;		/* exit() closes what is still open */
}

/* ---- churn ---- */

static int cmd_churn(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "count", required_argument, NULL, 'n' },
		{ "bind-prefix", required_argument, NULL, 'p' },
		{ "how", required_argument, NULL, 'w' },
		{ "comm", required_argument, NULL, 'C' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *connect_s = NULL, *prefix_s = NULL, *how_s = "close", *comm = NULL;
	long count = -1, interval = 0;
	uint32_t base = 0, hosts = 0;
	struct addr dst;
	bool rst;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': connect_s = optarg; break;
		case 'n': count = parse_long("--count", optarg, 1, MAX_COUNT); break;
		case 'p': prefix_s = optarg; break;
		case 'w': how_s = optarg; break;
		case 'C': comm = optarg; break;
		case 'i': interval = parse_long("--interval-ms", optarg, 0, MAX_MS); break;
		case 'h': usage(); return 0;
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			usage_error("bad option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!connect_s)
		usage_error("--connect ADDR:PORT is required");
	if (parse_addr(connect_s, true, &dst) != 0 || addr_port(&dst) == 0)
		usage_error("--connect: bad address '%s' (want A.B.C.D:PORT or [V6]:PORT)", connect_s);
	if (count < 0)
		usage_error("--count N is required");
	if (!strcmp(how_s, "close"))
		rst = false;
	else if (!strcmp(how_s, "rst"))
		rst = true;
	else
		usage_error("--how: unknown value '%s' (close|rst)", how_s);
	if (comm && (!*comm || strlen(comm) > 15))
		usage_error("--comm: NAME must be 1-15 characters");
	if (prefix_s) {
		char tmp[32];
		const char *sl = strchr(prefix_s, '/');
		struct in_addr ia;

		if (!sl || (size_t)(sl - prefix_s) >= sizeof(tmp))
			usage_error("--bind-prefix: want A.B.C.D/LEN, got '%s'", prefix_s);
		memcpy(tmp, prefix_s, (size_t)(sl - prefix_s));
		tmp[sl - prefix_s] = '\0';
		if (inet_pton(AF_INET, tmp, &ia) != 1)
			usage_error("--bind-prefix: bad IPv4 address in '%s'", prefix_s);
		long len = parse_long("--bind-prefix length", sl + 1, 8, 30);
		if (dst.family != AF_INET)
			usage_error("--bind-prefix is IPv4 only but --connect is IPv6");
		uint32_t mask = 0xffffffffu << (32 - len);
		base = ntohl(ia.s_addr) & mask;
		hosts = (~mask) - 1;	/* skip network and broadcast */
	}

	int sfd = setup_signals();
	set_comm(comm);
	out("pid %ld", (long)getpid());

	for (long i = 0; i < count; i++) {
		if ((i > 0 && interval > 0) ? sleep_or_signal(sfd, interval) : signal_pending(sfd))
			die("interrupted by a signal after %ld of %ld connections", i, count);
		struct addr src, *srcp = NULL;

		if (hosts) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&src.ss;

			memset(&src, 0, sizeof(src));
			sin->sin_family = AF_INET;
			sin->sin_addr.s_addr = htonl(base + 1 + (uint32_t)(i % hosts));
			src.len = sizeof(*sin);
			src.family = AF_INET;
			inet_ntop(AF_INET, &sin->sin_addr, src.text, sizeof(src.text));
			srcp = &src;
		}
		int fd = connect_one(&dst, srcp, i);

		if (rst)
			close_rst(fd);
		else
			close(fd);
	}
	out("ready");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		usage_error("missing subcommand (server|client|churn)");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage();
		return 0;
	}
	subcmd = argv[1];
	if (!strcmp(argv[1], "server"))
		return cmd_server(argc - 1, argv + 1);
	if (!strcmp(argv[1], "client"))
		return cmd_client(argc - 1, argv + 1);
	if (!strcmp(argv[1], "churn"))
		return cmd_churn(argc - 1, argv + 1);
	subcmd = "";
	usage_error("unknown subcommand '%s' (server|client|churn)", argv[1]);
}
