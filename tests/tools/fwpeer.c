// SPDX-License-Identifier: GPL-2.0
/*
 * fwpeer: test traffic tool for finwatch. Creates TCP connections that end in
 * precise close scenarios (held or orphaned FIN_WAIT_2, RST, passive/active
 * close) so the e2e tests can check what finwatch reports.
 *
 *   fwpeer server --listen ADDR:PORT --mode hold|close|delay|rst|closefirst
 *                 [--close-after MS] [--duration SEC]
 *   fwpeer client --connect ADDR:PORT [--count N] [--bind ADDR[:PORT]]
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
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *subcmd = "";

/*
 * Prints "fwpeer SUB: MSG[: WHY]" ("fwpeer: MSG" before a subcommand is known)
 * and exits with status; a usage error (2) also points at --help.
 */
static void fail(int status, const char *why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
static void fail(int status, const char *why, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fwpeer%s%s: ", *subcmd ? " " : "", subcmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (why)
		fprintf(stderr, ": %s", why);
	fputs(status == 2 ? " (see fwpeer --help)\n" : "\n", stderr);
	exit(status);
}

#define usage_error(...) fail(2, NULL, __VA_ARGS__)
#define die(...) fail(1, NULL, __VA_ARGS__)
#define die_errno(...) fail(1, strerror(errno), __VA_ARGS__)

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

/* Index of s in names[], or -ENOENT. */
static int lookup(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	return -ENOENT;
}

struct addr {
	struct sockaddr_storage ss;
	socklen_t len;
	int family;
	char text[INET6_ADDRSTRLEN + 8];	/* as given, for messages */
};

/*
 * Parses "A.B.C.D:PORT", "[V6]:PORT" and, when the port is optional,
 * "A.B.C.D", "[V6]" or a bare "V6". Returns 0 or -EINVAL.
 */
static int parse_addr(const char *s, bool port_required, struct addr *a)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL;
	size_t hlen;
	bool v6 = false;

	memset(a, 0, sizeof(*a));
	if (strlen(s) >= sizeof(a->text))
		return -EINVAL;
	strcpy(a->text, s);

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb)
			return -EINVAL;
		hlen = (size_t)(rb - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		v6 = true;
		if (rb[1] == ':')
			port = rb + 2;
		else if (rb[1] != '\0')
			return -EINVAL;
	} else {
		const char *c = strchr(s, ':');

		if (c && strchr(c + 1, ':')) {
			/* bare IPv6 without brackets: no port possible */
			if (strlen(s) >= sizeof(host))
				return -EINVAL;
			strcpy(host, s);
			v6 = true;
		} else {
			hlen = c ? (size_t)(c - s) : strlen(s);
			if (hlen == 0 || hlen >= sizeof(host))
				return -EINVAL;
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
			return -EINVAL;
		errno = 0;
		pnum = strtoul(port, &end, 10);
		if (errno || *end || pnum > 65535)
			return -EINVAL;
	} else if (port_required) {
		return -EINVAL;
	}

	if (v6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)pnum);
		a->len = sizeof(*sin6);
		a->family = AF_INET6;
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -EINVAL;
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

/* ---- options ---- */

enum smode { S_HOLD, S_CLOSE, S_DELAY, S_RST, S_CLOSEFIRST };
enum chow { H_CLOSE, H_SHUTDOWN, H_RST, H_NONE };

static const char *const smode_names[] = {
	[S_HOLD] = "hold", [S_CLOSE] = "close", [S_DELAY] = "delay",
	[S_RST] = "rst", [S_CLOSEFIRST] = "closefirst",
};

static const char *const how_names[] = {
	[H_CLOSE] = "close", [H_SHUTDOWN] = "shutdown", [H_RST] = "rst", [H_NONE] = "none",
};

/*
 * Every option of every subcommand, so that one parser serves them all; an
 * option a subcommand does not take keeps the default it set.
 */
struct args {
	const char *listen_s, *mode_s;		/* server */
	long close_after, duration;
	const char *connect_s, *how_s, *comm;	/* client and churn */
	long count, interval;
	const char *bind_s;			/* client */
	long hold;
	const char *prefix_s;			/* churn */

	/* set by check_conn_args() */
	struct addr dst, src;		/* src: --bind */
	enum chow how;
	uint32_t base, hosts;		/* --bind-prefix: hosts > 0 addresses after base */
};

/*
 * getopt_long() resolves abbreviations against the table it is given, so each
 * subcommand keeps a table of exactly its own options ("--b" is --bind for
 * client, --bind-prefix for churn).
 */
#define OPT(name, val) { name, required_argument, NULL, val }
#define CONN_OPTS OPT("connect", 'c'), OPT("count", 'n'), OPT("how", 'w'), \
	OPT("comm", 'C'), OPT("interval-ms", 'i')
#define HELP_OPT { "help", no_argument, NULL, 'h' }

/*
 * argv[0] is the subcommand. "+" stops at the first non-option, ":" tells a
 * missing value apart from an unknown option. Values are range-checked here,
 * the rest once all options are in, so bad numbers are reported first.
 */
static void parse_opts(int argc, char **argv, const struct option *opts, struct args *a)
{
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': a->listen_s = optarg; break;
		case 'm': a->mode_s = optarg; break;
		case 'a': a->close_after = parse_long("--close-after", optarg, 0, MAX_MS); break;
		case 'd': a->duration = parse_long("--duration", optarg, 0, MAX_SEC); break;
		case 'c': a->connect_s = optarg; break;
		case 'n': a->count = parse_long("--count", optarg, 1, MAX_COUNT); break;
		case 'w': a->how_s = optarg; break;
		case 'C': a->comm = optarg; break;
		case 'i': a->interval = parse_long("--interval-ms", optarg, 0, MAX_MS); break;
		case 'b': a->bind_s = optarg; break;
		case 's': a->hold = parse_long("--hold-sec", optarg, -1, MAX_SEC); break;
		case 'p': a->prefix_s = optarg; break;
		case 'h':
			usage();
			exit(0);
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			usage_error("bad option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
}

static void parse_prefix(struct args *a)
{
	const char *sl = strchr(a->prefix_s, '/');
	struct in_addr ia;
	char tmp[32];
	uint32_t mask;
	long len;

	if (!sl || (size_t)(sl - a->prefix_s) >= sizeof(tmp))
		usage_error("--bind-prefix: want A.B.C.D/LEN, got '%s'", a->prefix_s);
	memcpy(tmp, a->prefix_s, (size_t)(sl - a->prefix_s));
	tmp[sl - a->prefix_s] = '\0';
	if (inet_pton(AF_INET, tmp, &ia) != 1)
		usage_error("--bind-prefix: bad IPv4 address in '%s'", a->prefix_s);
	len = parse_long("--bind-prefix length", sl + 1, 8, 30);
	if (a->dst.family != AF_INET)
		usage_error("--bind-prefix is IPv4 only but --connect is IPv6");
	mask = 0xffffffffu << (32 - len);
	a->base = ntohl(ia.s_addr) & mask;
	a->hosts = (~mask) - 1;	/* skip network and broadcast */
}

/*
 * The order of the checks decides which error a command line with several
 * gets. Only the client may keep connections open (--how shutdown|none):
 * churn opens up to MAX_COUNT of them without raising RLIMIT_NOFILE.
 */
static void check_conn_args(struct args *a, bool keep_ok)
{
	int how;

	if (!a->connect_s)
		usage_error("--connect ADDR:PORT is required");
	if (parse_addr(a->connect_s, true, &a->dst) != 0 || addr_port(&a->dst) == 0)
		usage_error("--connect: bad address '%s' (want A.B.C.D:PORT or [V6]:PORT)",
			    a->connect_s);
	if (a->bind_s) {
		if (parse_addr(a->bind_s, false, &a->src) != 0)
			usage_error("--bind: bad address '%s'", a->bind_s);
		if (a->src.family != a->dst.family)
			usage_error("--bind %s and --connect %s are different address families",
				    a->bind_s, a->connect_s);
	}
	if (a->count < 0)
		usage_error("--count N is required");
	how = lookup(a->how_s, how_names, ARRAY_SIZE(how_names));
	if (keep_ok ? how < 0 : (how != H_CLOSE && how != H_RST))
		usage_error("--how: unknown value '%s' (%s)", a->how_s,
			    keep_ok ? "close|shutdown|rst|none" : "close|rst");
	a->how = how;
	if (a->comm && (!*a->comm || strlen(a->comm) > 15))
		usage_error("--comm: NAME must be 1-15 characters");
	if (a->prefix_s)
		parse_prefix(a);
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

static void sockopt_on(int fd, int level, int name, const char *what)
{
	int one = 1;

	if (setsockopt(fd, level, name, &one, sizeof(one)) != 0)
		die_errno("setsockopt(%s)", what);
}

/* ---- server ---- */

struct pending {		/* delay mode: fds waiting for their close time */
	int fd;
	int64_t close_at;
	struct pending *next;
};

static void ep_add(int ep, int fd, const char *what)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		die_errno("epoll_ctl(%s)", what);
}

static int cmd_server(int argc, char **argv)
{
	static const struct option opts[] = {
		OPT("listen", 'l'), OPT("mode", 'm'), OPT("close-after", 'a'),
		OPT("duration", 'd'), HELP_OPT, { 0 }
	};
	struct args a = { .close_after = -1 };
	struct addr la;
	enum smode mode;
	int m;

	parse_opts(argc, argv, opts, &a);
	if (!a.listen_s)
		usage_error("--listen ADDR:PORT is required");
	if (parse_addr(a.listen_s, true, &la) != 0)
		usage_error("--listen: bad address '%s' (want A.B.C.D:PORT or [V6]:PORT)", a.listen_s);
	if (!a.mode_s)
		usage_error("--mode is required (hold|close|delay|rst|closefirst)");
	m = lookup(a.mode_s, smode_names, ARRAY_SIZE(smode_names));
	if (m < 0)
		usage_error("--mode: unknown mode '%s' (hold|close|delay|rst|closefirst)", a.mode_s);
	mode = m;
	if (a.close_after >= 0 && mode != S_DELAY && mode != S_RST)
		usage_error("--close-after only applies to --mode delay and rst");
	/* rst without --close-after resets at once; with it, after our ACK of
	 * the peer's FIN has surely left (the peer then sits in FIN_WAIT_2). */
	if (a.close_after < 0 && mode == S_DELAY)
		a.close_after = 1000;

	raise_nofile();
	int sfd = setup_signals();

	int lfd = socket(la.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die_errno("socket");
	sockopt_on(lfd, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR");
	if (la.family == AF_INET6)
		sockopt_on(lfd, IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY");
	if (bind(lfd, (struct sockaddr *)&la.ss, la.len) != 0)
		die_errno("bind %s", la.text);
	if (listen(lfd, SOMAXCONN) != 0)
		die_errno("listen %s", la.text);
	if (addr_port(&la) == 0) {
		struct addr bound = { .len = sizeof(bound.ss) };

		if (getsockname(lfd, (struct sockaddr *)&bound.ss, &bound.len) != 0)
			die_errno("getsockname");
		bound.family = bound.ss.ss_family;
		out("port %u", addr_port(&bound));
	}

	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die_errno("epoll_create1");
	ep_add(ep, lfd, "listen");
	ep_add(ep, sfd, "signalfd");

	out("ready");

	struct pending *head = NULL, *tail = NULL;
	int64_t end = a.duration > 0 ? now_ms() + a.duration * 1000 : -1;
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
					ep_add(ep, cfd, "add conn");
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
				if (a.close_after < 0) {
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
				p->close_at = now_ms() + a.close_after;
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

/* ---- client and churn ---- */

static int connect_one(const struct addr *dst, const struct addr *src, long idx)
{
	struct timeval tv = { .tv_sec = CONNECT_TIMEOUT_SEC };
	int fd = socket(dst->family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die_errno("socket (connection %ld)", idx);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		die_errno("setsockopt(SO_SNDTIMEO)");
	if (src) {
		if (addr_port(src) != 0)
			sockopt_on(fd, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR");
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

/* Source of connection idx: --bind, the next host of --bind-prefix, or none. */
static const struct addr *conn_src(const struct args *a, long idx, struct addr *buf)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&buf->ss;

	if (a->bind_s)
		return &a->src;
	if (!a->hosts)
		return NULL;
	memset(buf, 0, sizeof(*buf));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(a->base + 1 + (uint32_t)(idx % a->hosts));
	buf->len = sizeof(*sin);
	buf->family = AF_INET;
	inet_ntop(AF_INET, &sin->sin_addr, buf->text, sizeof(buf->text));
	return buf;
}

/*
 * Returns the signalfd. The name is set before the pid is printed, so a test
 * that looks the process up by that pid already sees --comm.
 */
static int begin_conns(const struct args *a)
{
	int sfd = setup_signals();

	set_comm(a->comm);
	out("pid %ld", (long)getpid());
	return sfd;
}

/*
 * Opens a->count connections one after another, ends each as --how says and
 * prints "ready". Sockets half-closed by --how shutdown go into watch[idx] to
 * be polled for the peer's close; watch is only used with that --how.
 */
static void open_conns(const struct args *a, int sfd, struct pollfd *watch)
{
	for (long i = 0; i < a->count; i++) {
		struct addr src;

		if ((i > 0 && a->interval > 0) ? sleep_or_signal(sfd, a->interval) : signal_pending(sfd))
			die("interrupted by a signal after %ld of %ld connections", i, a->count);
		int fd = connect_one(&a->dst, conn_src(a, i, &src), i);

		switch (a->how) {
		case H_CLOSE:
			close(fd);
			break;
		case H_SHUTDOWN:
			if (shutdown(fd, SHUT_WR) != 0)
				die_errno("shutdown (connection %ld)", i);
			watch[i].fd = fd;
			watch[i].events = POLLIN;
			break;
		case H_RST:
			close_rst(fd);
			break;
		case H_NONE:
			break;	/* kept open (and not watched) until exit */
		}
	}
	out("ready");
}

static int cmd_client(int argc, char **argv)
{
	static const struct option opts[] = {
		CONN_OPTS, OPT("bind", 'b'), OPT("hold-sec", 's'), HELP_OPT, { 0 }
	};
	struct args a = { .count = 1, .how_s = "close" };

	parse_opts(argc, argv, opts, &a);
	check_conn_args(&a, true);

	bool keep = a.how == H_SHUTDOWN || a.how == H_NONE;
	rlim_t lim = raise_nofile();
	if (keep && (rlim_t)a.count + 16 > lim)
		die("--count %ld needs more fds than RLIMIT_NOFILE allows (%llu)",
		    a.count, (unsigned long long)lim);
	int sfd = begin_conns(&a);

	/* slot 0 is the signalfd, slot i+1 connection i (fd -1: not polled) */
	struct pollfd *pfd = calloc((size_t)a.count + 1, sizeof(*pfd));
	if (!pfd)
		die("out of memory");
	pfd[0].fd = sfd;
	pfd[0].events = POLLIN;
	for (long i = 1; i <= a.count; i++)
		pfd[i].fd = -1;
	open_conns(&a, sfd, pfd + 1);

	int64_t end = a.hold < 0 ? -1 : now_ms() + a.hold * 1000;
	long closed = 0, reset = 0, aborted = 0;
	char buf[4096];

	while (a.hold != 0) {
		int n = poll(pfd, (nfds_t)a.count + 1, timeout_until(end));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die_errno("poll");
		}
		if (n == 0 && end >= 0 && now_ms() >= end)
			break;
		if (pfd[0].revents)
			break;	/* SIGTERM/SIGINT */
		for (long i = 1; i <= a.count && n > 0; i++) {
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

static int cmd_churn(int argc, char **argv)
{
	static const struct option opts[] = {
		CONN_OPTS, OPT("bind-prefix", 'p'), HELP_OPT, { 0 }
	};
	struct args a = { .count = -1, .how_s = "close" };

	parse_opts(argc, argv, opts, &a);
	check_conn_args(&a, false);
	open_conns(&a, begin_conns(&a), NULL);
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
