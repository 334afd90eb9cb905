// SPDX-License-Identifier: GPL-2.0
/*
 * loadgen: bounded TCP connect/close churn over loopback, for the finwatch
 * benchmarks (scripts/bench.sh). Every connection goes through FIN_WAIT_2
 * on the client side: the client connects and close()s at once (it is the
 * active closer), the local server reads EOF and closes its end.
 *
 *   loadgen [--addr A.B.C.D] [--port P] [--seconds S] [--workers K]
 *           [--server-workers N] [--src-net A.B.C.D/LEN] [--max-conns M]
 *           [--linger-ms MS] [--rate R] [--json]
 *
 * The parent listens on ADDR:PORT (port 0: a free one), forks N server
 * workers sharing the listening socket and K client workers. Client worker w
 * binds each socket to a source address of its own slice of --src-net
 * (IP_BIND_ADDRESS_NO_PORT, so ports are picked per 4-tuple at connect time),
 * connects and closes, until S seconds passed or it made M connections.
 * With --rate R the client workers together open R connections per second
 * (each worker R/K, paced against absolute due times, so a late connection
 * is made up at once and the average rate holds): a fixed load below
 * saturation, for CPU per connection. Without it they go as fast as they can.
 * When every client is done the servers keep draining for --linger-ms (the
 * last FINs and ACKs), then stop. The parent prints one line:
 *   connections N errors E seconds T rate R/s workers K
 * (or a JSON object with --json) and exits 0; 1 on errors (more than 1% of
 * attempts failed, or a worker died), 2 on bad usage.
 *
 * Only 127.0.0.0/8 destinations are accepted (loopback-only traffic). Every
 * loop is bounded in count and time, and every process arms alarm() as a last
 * resort. Only libc is used.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 64
#define MAX_SECONDS 600
#define MAX_CONNS_LIMIT 100000000L
#define MAX_LINGER_MS 10000
#define MAX_RATE 10000000L
#define CONNECT_TIMEOUT_SEC 2
#define ERR_ABORT_MIN 1000	/* a worker gives up after this many errors... */
#define ERR_ABORT_PCT 1		/* ...if they are more than this % of attempts */

struct worker_stats {		/* one per client worker, in shared memory */
	long conns;
	long errors;
	int last_errno;
	int done;
};

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(FILE *f)
{
	fputs(
"usage: loadgen [--addr A.B.C.D] [--port P] [--seconds S] [--workers K]\n"
"               [--server-workers N] [--src-net A.B.C.D/LEN] [--max-conns M]\n"
"               [--linger-ms MS] [--rate R] [--json]\n"
"  Loopback connect/close churn: K client workers (default 2) connect to a\n"
"  local server (N workers, default 1) on ADDR:PORT (default 127.0.0.1:0 = a\n"
"  free port) and close at once, for S seconds (default 10, max 600) or M\n"
"  connections per worker (default 100000000). Sources: addresses of\n"
"  --src-net (default 127.64.0.0/10, split between workers). The server reads\n"
"  EOF and closes, so each client socket goes through FIN_WAIT_2.\n"
"  --rate R: R connections per second in all (default: as fast as possible).\n"
"  Prints: connections N errors E seconds T rate R/s workers K\n",
	      f);
}

static void die(const char *msg)
{
	fprintf(stderr, "loadgen: %s: %s\n", msg, strerror(errno));
	exit(1);
}

static long parse_long(const char *opt, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "loadgen: %s: '%s' is not an integer in [%ld, %ld]\n", opt, s, min, max);
		exit(2);
	}
	return v;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- server: accept, read EOF, close ---- */

static void server_worker(int lfd, double hard_end)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE }, evs[256];
	char buf[4096];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		die("epoll_create1");
	ev.data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0)
		die("epoll_ctl(listen)");
	/* Stopped by SIGTERM from the parent; hard_end bounds it anyway. */
	while (!stop_flag && now_s() < hard_end) {
		int n = epoll_wait(ep, evs, 256, 100);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == lfd) {
				/* Bounded: at most one backlog's worth per wakeup. */
				for (int k = 0; k < 4096; k++) {
					int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
					ssize_t r;

					if (cfd < 0) {
						if (errno == EAGAIN || errno == EWOULDBLOCK)
							break;
						if (errno == EINTR || errno == ECONNABORTED ||
						    errno == EPROTO || errno == EMFILE || errno == ENFILE)
							break;
						die("accept4");
					}
					r = recv(cfd, buf, sizeof(buf), MSG_DONTWAIT);
					if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
						close(cfd);     /* EOF (or reset) already there */
						continue;
					}
					struct epoll_event cev = { .events = EPOLLIN | EPOLLRDHUP };

					cev.data.fd = cfd;
					if (epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &cev) != 0)
						close(cfd);
				}
				continue;
			}
			/* Drain what is there (bounded), close on EOF or error. */
			for (int k = 0; k < 64; k++) {
				ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

				if (r > 0)
					continue;
				if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
					break;
				close(fd);      /* also removes it from the epoll set */
				break;
			}
		}
	}
	_exit(0);
}

/* ---- client: connect, close ---- */

/* --rate: sleep until connection i of this worker is due (absolute time,
 * so the sleeps' own overshoot does not lower the rate). */
static void pace(long i, double t0, double per_s)
{
	double due = t0 + (double)i / per_s;
	struct timespec ts;

	if (now_s() >= due)
		return;
	ts.tv_sec = (time_t)due;
	ts.tv_nsec = (long)((due - (double)ts.tv_sec) * 1e9);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop_flag)
		;
}

static void client_worker(int w, const struct sockaddr_in *dst, uint32_t src_base, uint32_t src_n,
			  long max_conns, double end, double per_s, struct worker_stats *st)
{
	double t0 = now_s();
	struct timeval tv = { .tv_sec = CONNECT_TIMEOUT_SEC };
	struct sockaddr_in src = { .sin_family = AF_INET };
	int one = 1;
	uint32_t k = 0;

	(void)w;
	for (long i = 0; i < max_conns && !stop_flag; i++) {
		/* The clock is read every 64 connections: cheap and bounded. */
		if (per_s > 0) {
			pace(i, t0, per_s);
			if (now_s() >= end)
				break;
		} else if ((i & 63) == 0 && now_s() >= end) {
			break;
		}
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			st->errors++;
			st->last_errno = errno;
			goto check;
		}
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (src_n) {
			setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
			src.sin_addr.s_addr = htonl(src_base + k);
			if (++k == src_n)
				k = 0;
			if (bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0) {
				st->errors++;
				st->last_errno = errno;
				close(fd);
				goto check;
			}
		}
		if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) != 0) {
			st->errors++;
			st->last_errno = errno;
			close(fd);
			goto check;
		}
		close(fd);
		st->conns++;
		continue;
check:
		if (st->errors >= ERR_ABORT_MIN && st->errors * 100 > (st->conns + st->errors) * ERR_ABORT_PCT)
			break;
	}
	st->done = 1;
	_exit(0);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "seconds", required_argument, NULL, 's' },
		{ "workers", required_argument, NULL, 'w' },
		{ "server-workers", required_argument, NULL, 'S' },
		{ "src-net", required_argument, NULL, 'n' },
		{ "max-conns", required_argument, NULL, 'm' },
		{ "linger-ms", required_argument, NULL, 'l' },
		{ "rate", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *addr_s = "127.0.0.1", *net_s = "127.64.0.0/10";
	long port = 0, seconds = 10, workers = 2, sworkers = 1, max_conns = MAX_CONNS_LIMIT;
	long linger = 500, target_rate = 0;
	int json = 0, c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': addr_s = optarg; break;
		case 'p': port = parse_long("--port", optarg, 0, 65535); break;
		case 's': seconds = parse_long("--seconds", optarg, 1, MAX_SECONDS); break;
		case 'w': workers = parse_long("--workers", optarg, 1, MAX_WORKERS); break;
		case 'S': sworkers = parse_long("--server-workers", optarg, 1, MAX_WORKERS); break;
		case 'n': net_s = optarg; break;
		case 'm': max_conns = parse_long("--max-conns", optarg, 1, MAX_CONNS_LIMIT); break;
		case 'l': linger = parse_long("--linger-ms", optarg, 0, MAX_LINGER_MS); break;
		case 'r': target_rate = parse_long("--rate", optarg, 1, MAX_RATE); break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "loadgen: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}

	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	if (inet_pton(AF_INET, addr_s, &dst.sin_addr) != 1 || (ntohl(dst.sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "loadgen: --addr: '%s' is not a 127.0.0.0/8 address\n", addr_s);
		return 2;
	}

	/* Source addresses: the prefix minus its first and last address. */
	uint32_t src_base = 0, src_total = 0;
	{
		char tmp[32];
		const char *sl = strchr(net_s, '/');
		struct in_addr ia;
		long len;

		if (!sl || (size_t)(sl - net_s) >= sizeof(tmp)) {
			fprintf(stderr, "loadgen: --src-net: want A.B.C.D/LEN, got '%s'\n", net_s);
			return 2;
		}
		memcpy(tmp, net_s, (size_t)(sl - net_s));
		tmp[sl - net_s] = '\0';
		len = parse_long("--src-net length", sl + 1, 8, 30);
		if (inet_pton(AF_INET, tmp, &ia) != 1 || (ntohl(ia.s_addr) >> 24) != 127) {
			fprintf(stderr, "loadgen: --src-net: '%s' is not inside 127.0.0.0/8\n", net_s);
			return 2;
		}
		uint32_t mask = 0xffffffffu << (32 - len);

		src_base = (ntohl(ia.s_addr) & mask) + 1;
		src_total = (~mask) - 1;
		if (src_total < (uint32_t)workers) {
			fprintf(stderr, "loadgen: --src-net %s has fewer addresses than --workers\n", net_s);
			return 2;
		}
	}

	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&dst, sizeof(dst)) != 0)
		die("bind (server)");
	if (listen(lfd, 65535) != 0)
		die("listen");
	{
		socklen_t sl = sizeof(dst);

		if (getsockname(lfd, (struct sockaddr *)&dst, &sl) != 0)
			die("getsockname");
	}

	struct worker_stats *st = mmap(NULL, sizeof(*st) * MAX_WORKERS, PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED)
		die("mmap");
	memset(st, 0, sizeof(*st) * MAX_WORKERS);

	struct sigaction sa = { .sa_handler = on_stop };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	pid_t spids[MAX_WORKERS], cpids[MAX_WORKERS];
	double t0 = now_s(), end = t0 + (double)seconds;
	/* Last resort for every process: alarm() kills it (default action). */
	unsigned hard = (unsigned)seconds + (unsigned)(linger / 1000) + 30;

	for (long i = 0; i < sworkers; i++) {
		spids[i] = fork();
		if (spids[i] < 0)
			die("fork");
		if (spids[i] == 0) {
			alarm(hard);
			server_worker(lfd, t0 + hard);
		}
	}
	uint32_t slice = src_total / (uint32_t)workers;

	t0 = now_s();
	end = t0 + (double)seconds;
	for (long i = 0; i < workers; i++) {
		cpids[i] = fork();
		if (cpids[i] < 0)
			die("fork");
		if (cpids[i] == 0) {
			close(lfd);
			alarm(hard);
			client_worker((int)i, &dst, src_base + (uint32_t)i * slice, slice, max_conns, end,
				      target_rate ? (double)target_rate / (double)workers : 0, &st[i]);
		}
	}
	alarm(hard + 5);

	int failed = 0;
	for (long i = 0; i < workers; i++) {
		int status;

		while (waitpid(cpids[i], &status, 0) < 0) {
			if (errno != EINTR)
				die("waitpid");
			if (stop_flag)	/* forward an interrupt to the workers */
				for (long j = 0; j < workers; j++)
					kill(cpids[j], SIGTERM);
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !st[i].done)
			failed = 1;
	}
	double t1 = now_s();

	/* Let the servers process the last FINs, then stop them. */
	if (linger > 0 && !stop_flag) {
		struct timespec ts = { .tv_sec = linger / 1000, .tv_nsec = (linger % 1000) * 1000000L };

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stop_flag)
			;
	}
	for (long i = 0; i < sworkers; i++)
		kill(spids[i], SIGTERM);
	for (long i = 0; i < sworkers; i++) {
		int status;

		while (waitpid(spids[i], &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed = 1;
	}

	long conns = 0, errors = 0;
	int last_errno = 0;

	for (long i = 0; i < workers; i++) {
		conns += st[i].conns;
		errors += st[i].errors;
		if (st[i].last_errno)
			last_errno = st[i].last_errno;
	}
	double secs = t1 - t0, rate = secs > 0 ? (double)conns / secs : 0;

	if (json)
		printf("{\"connections\":%ld,\"errors\":%ld,\"seconds\":%.3f,\"rate\":%.0f,"
		       "\"workers\":%ld,\"server_workers\":%ld,\"port\":%u}\n",
		       conns, errors, secs, rate, workers, sworkers, ntohs(dst.sin_port));
	else
		printf("connections %ld errors %ld seconds %.3f rate %.0f/s workers %ld port %u\n",
		       conns, errors, secs, rate, workers, ntohs(dst.sin_port));
	if (errors)
		fprintf(stderr, "loadgen: %ld failed attempts (last: %s)\n", errors, strerror(last_errno));
	if (failed)
		fprintf(stderr, "loadgen: a worker failed or was interrupted\n");
	if (failed || (errors && errors * 100 > (conns + errors) * ERR_ABORT_PCT))
		return 1;
	return 0;
}
