// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ncurses, not hand-written escape codes: terminfo knows each terminal's
 * sequences, resizes arrive as KEY_RESIZE, output is the minimal update,
 * and ^Z suspends and resumes the screen properly.
 */
#include <curses.h>
#include <term.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include "parse.h"
#include "top_model.h"
#include "top_view.h"

#define PAIR_ALERT 1
#define PAIR_WARN 2
#define PAIR_OK 3
#define KEY_ESC 27
#define HEADER_LINES 4          /* two header lines, a status line, titles */
#define KEPT_WARNINGS 8         /* printed again once the terminal is back */

enum col { C_MARK, C_PEER, C_NETNS, C_COUNT, C_HELD, C_ORPH, C_OLDEST, C_TREND, C_IN, C_OUT,
	   C_EXPIRY, C_PROC, C_WL, C_N };

/* drop: which columns go first when the terminal is narrow (highest first;
 * 0 never). */
static const struct { const char *title; int width; int right; int drop; } cols[C_N] = {
	[C_MARK] = { "", 1, 0, 0 },
	[C_PEER] = { "PEER", 22, 0, 0 },
	[C_NETNS] = { "NETNS", 10, 1, 6 },
	[C_COUNT] = { "COUNT", 6, 1, 0 },
	[C_HELD] = { "HELD", 6, 1, 3 },
	[C_ORPH] = { "ORPH", 6, 1, 3 },
	[C_OLDEST] = { "OLDEST", 8, 1, 0 },
	[C_TREND] = { "TREND", 20, 0, 2 },
	[C_IN] = { "IN/s", 6, 1, 4 },
	[C_OUT] = { "OUT/s", 6, 1, 4 },
	[C_EXPIRY] = { "EXPIRY", 15, 0, 0 },
	[C_PROC] = { "PROCESS", 18, 0, 1 },
	[C_WL] = { "WORKLOAD", 16, 0, 5 },
};

struct top_view {
	SCREEN *scr;
	struct top_model *m;
	int saved_stderr;       /* fd 2 before the screen, -1 once restored */
	int active;
	int utf8;
	int colors;
	int paused;
	int dirty;
	int quit;
	/* The selected row, kept by its key across updates. */
	int sel, first;
	char sel_peer[80];
	__u32 sel_netns;
	__u64 sel_wl;
	/* '/' typing a filter: the text before it, to go back on Esc. */
	int filtering;
	char filter_before[TOP_FILTER_LEN];
	/* Enter: one peer. */
	int detail;
	int detail_first;
	struct top_detail *d;
	char note[160];
	/* Warnings while stderr was hidden: the first few, and how many. */
	char warned[KEPT_WARNINGS][160];
	int n_warned;
	int width[C_N];         /* 0: not shown at this width */
};

int top_view_check(char *msg, size_t len)
{
	const char *term = getenv("TERM");
	int err = 0;

	if (!isatty(STDOUT_FILENO)) {
		snprintf(msg, len, "top draws on a terminal and stdout is not one; use 'finwatch watch' "
			 "(text, or --json) for pipes and files");
		return -1;
	}
	if (!term || !term[0]) {
		snprintf(msg, len, "top: TERM is not set; set it to the terminal's type (e.g. TERM=xterm)");
		return -1;
	}
	if (setupterm(term, STDOUT_FILENO, &err) != OK) {
		if (err == 0)
			snprintf(msg, len, "top: unknown terminal type '%s' (TERM): no terminfo entry for it; "
				 "set TERM to a known type or TERMINFO=DIR to a terminfo directory that has it",
				 term);
		else
			snprintf(msg, len, "top: no terminfo database found for TERM=%s; set TERMINFO=DIR "
				 "(e.g. the host's /usr/share/terminfo mounted in)", term);
		return -1;
	}
	del_curterm(cur_term);
	return 0;
}

static void note_set(struct top_view *v, const char *msg)
{
	snprintf(v->note, sizeof(v->note), "%s", msg);
	v->dirty = 1;
}

void top_view_note(struct top_view *v, const char *msg)
{
	if (!v || !v->active)
		return;
	note_set(v, msg);
	if (v->n_warned < KEPT_WARNINGS)
		snprintf(v->warned[v->n_warned], sizeof(v->warned[0]), "%s", msg);
	v->n_warned++;
}

static void stderr_restore(struct top_view *v)
{
	if (v->saved_stderr < 0)
		return;
	dup2(v->saved_stderr, STDERR_FILENO);
	close(v->saved_stderr);
	v->saved_stderr = -1;
}

struct top_view *top_view_start(__u64 now, char *msg, size_t len)
{
	struct top_view *v = calloc(1, sizeof(*v));
	char host[64] = "?";
	struct utsname u;
	int devnull;

	if (!v || !(v->d = calloc(1, sizeof(*v->d)))) {
		snprintf(msg, len, "out of memory");
		top_view_free(v);
		return NULL;
	}
	gethostname(host, sizeof(host) - 1);
	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "?");
	v->m = top_model_new(host, u.release, now);
	v->saved_stderr = -1;
	if (!v->m) {
		snprintf(msg, len, "out of memory");
		top_view_free(v);
		return NULL;
	}
	/* Characters only: numbers in records keep the C locale. */
	setlocale(LC_CTYPE, "");
	v->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	/* Warnings would scroll the screen; they go to the status line. */
	fflush(stderr);
	v->saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (v->saved_stderr >= 0 && devnull >= 0)
		dup2(devnull, STDERR_FILENO);
	if (devnull >= 0)
		close(devnull);
	v->scr = newterm(NULL, stdout, stdin);
	if (!v->scr) {
		stderr_restore(v);
		snprintf(msg, len, "top: cannot start the terminal (TERM=%s)", getenv("TERM") ? getenv("TERM") : "");
		top_view_free(v);
		return NULL;
	}
	set_term(v->scr);
	v->active = 1;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(PAIR_ALERT, COLOR_RED, -1);
		init_pair(PAIR_WARN, COLOR_YELLOW, -1);
		init_pair(PAIR_OK, COLOR_GREEN, -1);
		v->colors = 1;
	}
	v->dirty = 1;
	return v;
}

void top_view_end(struct top_view *v)
{
	if (!v || !v->active)
		return;
	v->active = 0;
	curs_set(1);
	endwin();
	fflush(stdout);
	stderr_restore(v);
	/* What the status line said is not lost with the screen (an error
	 * that ended the run, above all). */
	for (int i = 0; i < v->n_warned && i < KEPT_WARNINGS; i++)
		fprintf(stderr, "finwatch: %s\n", v->warned[i]);
	if (v->n_warned > KEPT_WARNINGS)
		fprintf(stderr, "finwatch: ... and %d more warning(s) while top ran\n", v->n_warned - KEPT_WARNINGS);
}

void top_view_free(struct top_view *v)
{
	if (!v)
		return;
	top_view_end(v);
	if (v->scr)
		delscreen(v->scr);
	top_model_free(v->m);
	free(v->d);
	free(v);
}

/* ---- selection ---- */

static int row_is(const struct top_row *r, const char *peer, __u32 netns, __u64 wl)
{
	return r->netns == netns && r->wl_key == wl && !strcmp(r->peer, peer);
}

static void sel_remember(struct top_view *v)
{
	const struct top_row *const *rows;
	int n = top_model_rows(v->m, &rows);

	if (v->sel >= n)
		v->sel = n ? n - 1 : 0;
	if (v->sel < 0)
		v->sel = 0;
	if (!n) {
		v->sel_peer[0] = '\0';
		return;
	}
	snprintf(v->sel_peer, sizeof(v->sel_peer), "%s", rows[v->sel]->peer);
	v->sel_netns = rows[v->sel]->netns;
	v->sel_wl = rows[v->sel]->wl_key;
}

/* After rows changed: the same peer stays selected if it is still shown. */
static void sel_find(struct top_view *v)
{
	const struct top_row *const *rows;
	int n = top_model_rows(v->m, &rows);

	for (int i = 0; v->sel_peer[0] && i < n; i++)
		if (row_is(rows[i], v->sel_peer, v->sel_netns, v->sel_wl)) {
			v->sel = i;
			return;
		}
	sel_remember(v);
}

static void detail_refresh(struct top_view *v, const struct fw2_tracker *t, __u64 now)
{
	top_model_detail(v->m, t, v->sel_peer, v->sel_netns, v->sel_wl, now, v->d);
}

void top_view_sample(struct top_view *v, const struct fw2_tracker *t, const struct fw_run_stats *st,
		     __u64 now)
{
	if (!v || v->paused)
		return;
	if (top_model_update(v->m, t, st, now))
		note_set(v, "out of memory: some peers are missing from the view");
	/* The detail stays on its peer even when it leaves the table. */
	if (v->detail)
		detail_refresh(v, t, now);
	else
		sel_find(v);
	v->dirty = 1;
}

/* ---- drawing ---- */

static void layout(struct top_view *v)
{
	int total = 0;

	for (int c = 0; c < C_N; c++) {
		v->width[c] = cols[c].width;
		total += cols[c].width + 1;
	}
	/* Narrow: drop columns, least needed first. */
	for (int level = 6; level > 0 && total > COLS; level--)
		for (int c = 0; c < C_N; c++)
			if (cols[c].drop == level && v->width[c]) {
				total -= v->width[c] + 1;
				v->width[c] = 0;
			}
	/* Wide: longer peers and trends, the rest to the last column. */
	int spare = COLS - total;
	int grow = spare > 18 ? 18 : spare > 0 ? spare : 0;

	v->width[C_PEER] += grow;
	spare -= grow;
	if (v->width[C_TREND] && spare > 0) {
		grow = spare > 40 ? 40 : spare;
		v->width[C_TREND] += grow;
		spare -= grow;
	}
	if (spare > 0) {
		int last = v->width[C_WL] ? C_WL : v->width[C_PROC] ? C_PROC : C_EXPIRY;

		v->width[last] += spare;
	}
}

/* Text clipped to w columns at (y, x), left or right aligned. */
static void put(int y, int x, int w, int right, const char *s)
{
	if (w <= 0 || x >= COLS)
		return;
	if (x + w > COLS)
		w = COLS - x;
	mvprintw(y, x, right ? "%*.*s" : "%-*.*s", w, w, s);
}

static void mem_text(char *buf, size_t len, __u64 bytes)
{
	snprintf(buf, len, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
}

static void draw_header(struct top_view *v)
{
	const struct top_header *h = top_model_header(v->m);
	char up[32], mem[32], line[512];

	format_duration(up, sizeof(up), h->uptime_ns);
	mem_text(mem, sizeof(mem), h->rss_bytes);
	attron(A_BOLD);
	snprintf(line, sizeof(line), "finwatch top  %s  kernel %s  up %s", h->host, h->kernel, up);
	put(0, 0, COLS, 0, line);
	attroff(A_BOLD);
	snprintf(line, sizeof(line), "sort: %s%s%s%s%s", top_sort_name(top_model_sort(v->m)),
		 top_model_filter(v->m)[0] ? "  filter: " : "", top_model_filter(v->m),
		 v->paused ? "  PAUSED" : "", "");
	if ((int)strlen(line) < COLS / 2)
		put(0, COLS - (int)strlen(line) - 1, (int)strlen(line), 1, line);

	int x = 0;

	snprintf(line, sizeof(line), "FIN_WAIT_2 now %u (held %u, orphaned %u) in %u peer%s", h->total,
		 h->held, h->orphaned, h->peers, h->peers == 1 ? "" : "s");
	if (h->unconfirmed)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " +%u handoffs unconfirmed",
			 h->unconfirmed);
	put(1, x, COLS, 0, line);
	x += (int)strlen(line);
	snprintf(line, sizeof(line), "  events %.1f/s  lost %llu  skipped %llu", h->events_rate,
		 (unsigned long long)h->lost, (unsigned long long)h->skipped);
	if (h->lost || h->skipped)
		attron(v->colors ? COLOR_PAIR(PAIR_WARN) | A_BOLD : A_BOLD);
	put(1, x, COLS - x, 0, line);
	attroff(A_BOLD | COLOR_PAIR(PAIR_WARN));
	x += (int)strlen(line);
	snprintf(line, sizeof(line), "  cpu %.1f%% mem %s", h->cpu_pct, mem);
	put(1, x, COLS - x, 0, line);
	x += (int)strlen(line);
	snprintf(line, sizeof(line), "  alerts firing %d%s", h->alerts_firing,
		 h->total_firing ? " (max_total)" : "");
	if (h->alerts_firing)
		attron(v->colors ? COLOR_PAIR(PAIR_ALERT) | A_BOLD : A_BOLD | A_REVERSE);
	put(1, x, COLS - x, 0, line);
	attroff(A_BOLD | A_REVERSE | COLOR_PAIR(PAIR_ALERT));
	if (v->note[0]) {
		attron(v->colors ? COLOR_PAIR(PAIR_WARN) : A_BOLD);
		put(2, 0, COLS, 0, v->note);
		attroff(A_BOLD | COLOR_PAIR(PAIR_WARN));
	}
}

static void draw_row_cells(struct top_view *v, int y, const struct top_row *r)
{
	char cell[C_N][192];
	int x = 0;

	for (int c = 0; c < C_N; c++)
		cell[c][0] = '\0';
	snprintf(cell[C_MARK], sizeof(cell[0]), "%s", r->alert ? "!" : " ");
	snprintf(cell[C_PEER], sizeof(cell[0]), "%s", r->peer);
	snprintf(cell[C_NETNS], sizeof(cell[0]), "%u", r->netns);
	snprintf(cell[C_COUNT], sizeof(cell[0]), "%u", r->count);
	snprintf(cell[C_HELD], sizeof(cell[0]), "%u", r->held);
	snprintf(cell[C_ORPH], sizeof(cell[0]), "%u", r->orphaned);
	if (r->count) {
		char d[32];

		format_duration(d, sizeof(d), r->oldest_ns);
		snprintf(cell[C_OLDEST], sizeof(cell[0]), "%s%s", r->oldest_lower_bound ? ">=" : "", d);
	} else {
		snprintf(cell[C_OLDEST], sizeof(cell[0]), "-");
	}
	snprintf(cell[C_IN], sizeof(cell[0]), "%.1f", r->enter_rate);
	snprintf(cell[C_OUT], sizeof(cell[0]), "%.1f", r->exit_rate);
	top_expiry_text(r, cell[C_EXPIRY], sizeof(cell[0]));
	if (r->pid)
		snprintf(cell[C_PROC], sizeof(cell[0]), "%s[%u]", r->comm, r->pid);
	else
		snprintf(cell[C_PROC], sizeof(cell[0]), "%s", r->walked || !r->count ? "-" : "...");
	snprintf(cell[C_WL], sizeof(cell[0]), "%s", r->workload[0] ? r->workload : "-");
	for (int c = 0; c < C_N; c++) {
		if (!v->width[c])
			continue;
		if (c == C_TREND) {
			char spark[TOP_HIST_SAMPLES * 3 + 4];

			move(y, x);
			addstr(top_sparkline(v->m, r, v->width[c] < TOP_HIST_SAMPLES ? v->width[c] : TOP_HIST_SAMPLES,
					     v->utf8, spark, sizeof(spark)));
		} else {
			put(y, x, v->width[c], cols[c].right, cell[c]);
		}
		x += v->width[c] + 1;
	}
}

static void draw_titles(struct top_view *v, int y)
{
	int x = 0;

	attron(A_REVERSE);
	put(y, 0, COLS, 0, "");
	for (int c = 0; c < C_N; c++) {
		char t[64];

		if (!v->width[c])
			continue;
		if (c == C_TREND)
			snprintf(t, sizeof(t), "COUNT, LAST %dm", TOP_HIST_SAMPLES / 60);
		else
			snprintf(t, sizeof(t), "%s", cols[c].title);
		put(y, x, v->width[c], cols[c].right, t);
		x += v->width[c] + 1;
	}
	attroff(A_REVERSE);
}

static void draw_keys(struct top_view *v, const char *keys)
{
	if (v->filtering) {
		char line[128];

		snprintf(line, sizeof(line), "filter peers: %s_   (Enter keep, Esc cancel)", top_model_filter(v->m));
		attron(A_BOLD);
		put(LINES - 1, 0, COLS, 0, line);
		attroff(A_BOLD);
		return;
	}
	attron(A_DIM);
	put(LINES - 1, 0, COLS, 0, keys);
	attroff(A_DIM);
}

static void draw_table(struct top_view *v)
{
	const struct top_row *const *rows;
	int n = top_model_rows(v->m, &rows);
	int height = LINES - HEADER_LINES - 1;

	layout(v);
	draw_titles(v, HEADER_LINES - 1);
	if (height <= 0)
		return;
	if (v->sel < v->first)
		v->first = v->sel;
	if (v->sel >= v->first + height)
		v->first = v->sel - height + 1;
	if (v->first > n - height)
		v->first = n - height > 0 ? n - height : 0;
	if (!n)
		put(HEADER_LINES, 0, COLS, 0, top_model_filter(v->m)[0] ? "  no peer matches the filter"
									 : "  no FIN_WAIT_2 socket");
	for (int i = v->first; i < n && i < v->first + height; i++) {
		int y = HEADER_LINES + i - v->first;
		attr_t a = rows[i]->alert ? (v->colors ? COLOR_PAIR(PAIR_ALERT) | A_BOLD : A_BOLD) : 0;

		if (i == v->sel)
			a |= A_REVERSE;
		attron(a);
		put(y, 0, COLS, 0, "");
		draw_row_cells(v, y, rows[i]);
		attroff(a);
	}
	draw_keys(v, "c/a/r sort by count/age/rate  / filter  Enter detail  p pause  q quit   "
		     "EXPIRY: orphans' time left (tcp_fin_timeout); held: never");
}

static void draw_histogram(struct top_view *v, int *y, int max_lines)
{
	const struct top_detail *d = v->d;
	int lo, hi;
	__u64 max;

	put((*y)++, 0, COLS, 0, "FIN_WAIT_2 lifetime of the sockets that left (ms):");
	if (!fw2_hist_span(d->hist, &lo, &hi, &max)) {
		put((*y)++, 0, COLS, 0, "  none left yet");
		return;
	}
	if (hi - lo + 1 > max_lines)
		lo = hi - max_lines + 1;
	for (int b = lo; b <= hi; b++) {
		unsigned long long low, high;
		int bar = (int)(max ? (d->hist[b] * 40 + max - 1) / max : 0);
		char line[160];
		int off;

		fw2_hist_bounds(b, &low, &high);
		off = snprintf(line, sizeof(line), "  %10llu -> %-10llu %8llu |", low, high,
				   (unsigned long long)d->hist[b]);

		for (int i = 0; i < 40 && off < (int)sizeof(line) - 2; i++)
			line[off++] = i < bar ? '*' : ' ';
		line[off++] = '|';
		line[off] = '\0';
		put((*y)++, 0, COLS, 0, line);
	}
}

static void sock_expiry_text(char *buf, size_t len, const struct top_sock *s)
{
	if (s->expires_in_ns == TOP_EXPIRY_NONE)
		snprintf(buf, len, "never");
	else if (s->expires_in_ns == TOP_EXPIRY_UNKNOWN)
		snprintf(buf, len, "?");
	else
		format_duration(buf, len, ((__u64)s->expires_in_ns + NS_PER_SEC - 1) / NS_PER_SEC * NS_PER_SEC);
}

/* One peer's sockets from line y, oldest first, scrolled. */
static void draw_detail_socks(struct top_view *v, int y)
{
	const struct top_detail *d = v->d;
	char line[512], age[32], exp[64];

	attron(A_REVERSE);
	snprintf(line, sizeof(line), "%-7s %-7s %-10s %-9s %-9s %-24s %-20s %s", "SPORT", "DPORT", "AGE",
		 "KIND", "EXPIRES", "PROCESS", "WORKLOAD", "COOKIE");
	put(y++, 0, COLS, 0, line);
	attroff(A_REVERSE);

	int height = LINES - 1 - y;

	if (v->detail_first > d->n_socks - height)
		v->detail_first = d->n_socks - height > 0 ? d->n_socks - height : 0;
	for (int i = v->detail_first; i < d->n_socks && y < LINES - 1; i++) {
		const struct top_sock *s = &d->socks[i];
		char proc[48];

		format_duration(age, sizeof(age), s->age_ns);
		sock_expiry_text(exp, sizeof(exp), s);
		if (s->pid)
			snprintf(proc, sizeof(proc), "%s[%u]", s->comm, s->pid);
		else
			snprintf(proc, sizeof(proc), "-");
		snprintf(line, sizeof(line), "%-7u %-7u %s%-*s %-9s %-9s %-24s %-20s %llu", s->sport, s->dport,
			 s->lower_bound ? ">=" : "", s->lower_bound ? 8 : 10, age,
			 !s->orphaned ? "held" : s->timewait ? "orph(tw)" : "orphaned", exp, proc,
			 s->workload[0] ? s->workload : "-", (unsigned long long)s->cookie);
		put(y++, 0, COLS, 0, line);
	}
	if (d->n_socks >= TOP_DETAIL_MAX && y < LINES - 1)
		put(y, 0, COLS, 0, "  (the oldest shown; more not listed)");
}

static void draw_detail(struct top_view *v)
{
	const struct top_detail *d = v->d;
	const struct top_row *r = &d->row;
	char line[512], age[32], spark[TOP_HIST_SAMPLES * 3 + 4], exp[64];
	int y = 2;

	if (!d->found) {
		snprintf(line, sizeof(line), "peer %s (netns %u) has no socket tracked any more", v->sel_peer,
			 v->sel_netns);
		put(y, 0, COLS, 0, line);
		draw_keys(v, "Esc back  q quit");
		return;
	}
	format_duration(age, sizeof(age), r->oldest_ns);
	attron(A_BOLD);
	snprintf(line, sizeof(line), "peer %s  netns %u%s%s  count %u (held %u, orphaned %u)  oldest %s%s  "
		 "expiry %s", r->peer, r->netns, r->workload[0] ? "  workload " : "", r->workload, r->count,
		 r->held, r->orphaned, r->oldest_lower_bound ? ">=" : "", r->count ? age : "-",
		 top_expiry_text(r, exp, sizeof(exp)));
	put(y++, 0, COLS, 0, line);
	attroff(A_BOLD);
	if (r->alert) {
		int off = snprintf(line, sizeof(line), "ALERT firing:");

		for (int k = 0; k < FW2_RULE_MAX; k++)
			if (r->alert & (1u << k))
				off += snprintf(line + off, sizeof(line) - (size_t)off, " %s", fw2_rule_name(k));
		attron(v->colors ? COLOR_PAIR(PAIR_ALERT) | A_BOLD : A_BOLD | A_REVERSE);
		put(y++, 0, COLS, 0, line);
		attroff(A_BOLD | A_REVERSE | COLOR_PAIR(PAIR_ALERT));
	}
	snprintf(line, sizeof(line), "in %.1f/s  out %.1f/s  entered %llu  exited %llu (peer_fin %llu, rst %llu, "
		 "timeout %llu, killed %llu, other %llu)  tcp_fin_timeout %s", r->enter_rate, r->exit_rate,
		 (unsigned long long)d->entered, (unsigned long long)d->exited,
		 (unsigned long long)d->outcomes[FW2_OUT_PEER_FIN], (unsigned long long)d->outcomes[FW2_OUT_RST],
		 (unsigned long long)d->outcomes[FW2_OUT_TIMEOUT], (unsigned long long)d->outcomes[FW2_OUT_KILLED],
		 (unsigned long long)d->outcomes[FW2_OUT_OTHER], "");
	if (d->fin_timeout_s >= 0)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%ds", d->fin_timeout_s);
	else
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "unknown");
	put(y++, 0, COLS, 0, line);
	snprintf(line, sizeof(line), "count, last %dm: ", TOP_HIST_SAMPLES / 60);
	put(y, 0, COLS, 0, line);
	move(y++, (int)strlen(line));
	addstr(top_sparkline(v->m, r, COLS - (int)strlen(line) - 1 < 60 ? COLS - (int)strlen(line) - 1 : 60,
			     v->utf8, spark, sizeof(spark)));
	draw_histogram(v, &y, (LINES - y) / 3 > 3 ? (LINES - y) / 3 : 3);
	draw_detail_socks(v, y + 1);
	draw_keys(v, "Esc/Backspace back  Up/Down scroll  p pause  q quit   "
		     "EXPIRES: when the kernel ends an orphan (tcp_fin_timeout); held: never");
}

static void draw(struct top_view *v)
{
	erase();
	draw_header(v);
	if (v->detail)
		draw_detail(v);
	else
		draw_table(v);
	refresh();
	v->dirty = 0;
}

/* ---- keys ---- */

static void filter_key(struct top_view *v, int ch)
{
	char f[TOP_FILTER_LEN];
	size_t n;

	snprintf(f, sizeof(f), "%s", top_model_filter(v->m));
	n = strlen(f);
	if (ch == KEY_ESC) {
		top_model_set_filter(v->m, v->filter_before);
		v->filtering = 0;
	} else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		v->filtering = 0;
	} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (n)
			f[n - 1] = '\0';
		top_model_set_filter(v->m, f);
	} else if (ch >= 32 && ch < 127 && n + 1 < sizeof(f)) {
		f[n] = (char)ch;
		f[n + 1] = '\0';
		top_model_set_filter(v->m, f);
	}
	/* Filtering live: the selection follows the first match. */
	v->sel = 0;
	v->first = 0;
	sel_remember(v);
}

static void table_key(struct top_view *v, const struct fw2_tracker *t, int ch, __u64 now)
{
	const struct top_row *const *rows;
	int n = top_model_rows(v->m, &rows);
	int page = LINES - HEADER_LINES - 1 > 1 ? LINES - HEADER_LINES - 1 : 1;

	switch (ch) {
	case 'c': case 'C': top_model_set_sort(v->m, TOP_SORT_COUNT); sel_find(v); break;
	case 'a': case 'A': case 'o': top_model_set_sort(v->m, TOP_SORT_AGE); sel_find(v); break;
	case 'r': case 'R': top_model_set_sort(v->m, TOP_SORT_RATE); sel_find(v); break;
	case 's': top_model_set_sort(v->m, (top_model_sort(v->m) + 1) % TOP_SORT_MAX); sel_find(v); break;
	case '/':
		v->filtering = 1;
		snprintf(v->filter_before, sizeof(v->filter_before), "%s", top_model_filter(v->m));
		break;
	case KEY_UP: case 'k': v->sel--; sel_remember(v); break;
	case KEY_DOWN: case 'j': v->sel++; sel_remember(v); break;
	case KEY_PPAGE: v->sel -= page; sel_remember(v); break;
	case KEY_NPAGE: v->sel += page; sel_remember(v); break;
	case KEY_HOME: case 'g': v->sel = 0; sel_remember(v); break;
	case KEY_END: case 'G': v->sel = n - 1; sel_remember(v); break;
	case '\n': case '\r': case KEY_ENTER:
		if (n) {
			sel_remember(v);
			v->detail = 1;
			v->detail_first = 0;
			detail_refresh(v, t, now);
		}
		break;
	}
}

static void detail_key(struct top_view *v, int ch)
{
	int page = LINES / 2 > 1 ? LINES / 2 : 1;

	switch (ch) {
	case KEY_ESC: case KEY_BACKSPACE: case 127: case 8: case KEY_LEFT: case 'h':
		v->detail = 0;
		sel_find(v);
		break;
	case KEY_UP: case 'k': if (v->detail_first > 0) v->detail_first--; break;
	case KEY_DOWN: case 'j': v->detail_first++; break;
	case KEY_PPAGE: v->detail_first = v->detail_first > page ? v->detail_first - page : 0; break;
	case KEY_NPAGE: v->detail_first += page; break;
	case KEY_HOME: case 'g': v->detail_first = 0; break;
	}
}

int top_view_poll(struct top_view *v, const struct fw2_tracker *t, __u64 now)
{
	int ch;

	if (!v || !v->active)
		return 0;
	while ((ch = getch()) != ERR) {
		v->dirty = 1;
		if (ch == KEY_RESIZE) {
			clear();
			continue;
		}
		if (v->filtering) {
			filter_key(v, ch);
			continue;
		}
		if (ch == 'q' || ch == 'Q')
			return 1;
		if (ch == 'p' || ch == 'P' || ch == ' ') {
			v->paused = !v->paused;
			continue;
		}
		if (v->detail)
			detail_key(v, ch);
		else
			table_key(v, t, ch, now);
	}
	if (v->dirty)
		draw(v);
	return 0;
}
