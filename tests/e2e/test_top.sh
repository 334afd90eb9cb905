#!/usr/bin/env bash
# finwatch top driven in tmux against the netns lab: the stuck peer first
# with the count ss shows, held sockets expiring "never", orphans expiring
# at their namespace's tcp_fin_timeout (30 s here, not the default 60) after
# they entered FIN_WAIT_2, the alert marker, sorting and filtering keys, the
# detail of a peer, a resize, and the terminal given back on q and on
# SIGTERM, with the warnings the screen showed (a failing --on-alert hook)
# printed again; without a terminal top refuses (exit 2).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
skip_unless_root
command -v tmux >/dev/null || skip "no tmux (scripts/install-deps.sh --test)"

# Without a terminal: a one-line hint, exit 2, before anything is loaded.
set +e
"$FINWATCH" top </dev/null 2>"$TEST_TMP/pipe.err" | cat >/dev/null
rc=${PIPESTATUS[0]}
set -e
[ "$rc" = 2 ] || fail "finwatch top | cat exited $rc, want 2"
grep -q "use 'finwatch watch'" "$TEST_TMP/pipe.err" || fail "no hint to use watch: $(cat "$TEST_TMP/pipe.err")"
[ "$(wc -l <"$TEST_TMP/pipe.err")" = 1 ] || fail "more than one line: $(cat "$TEST_TMP/pipe.err")"
pass "top | cat: exit 2, one line: $(cat "$TEST_TMP/pipe.err")"

lab_up
FIN_TIMEOUT=30
ip netns exec "$LAB_HOST" sysctl -qw net.ipv4.tcp_fin_timeout=$FIN_TIMEOUT
HELD=60 ORPHANED=8
LIMIT=$((HELD - 10))

TMUX_SOCK="fwtop$$"
T=(tmux -L "$TMUX_SOCK")
cleanup_add "${T[@]}" kill-server
# A plain shell in a 160x48 terminal; top runs in the lab's host namespace.
"${T[@]}" -f /dev/null new-session -d -s top -x 160 -y 48 "env PS1='tmux-shell\$ ' bash --norc --noprofile"
"${T[@]}" set-option -g status off >/dev/null

screen() { "${T[@]}" capture-pane -p -t top; }
screen_has() { screen | grep -Eq -- "$1"; }
alt_on() { [ "$("${T[@]}" display-message -p -t top '#{alternate_on}')" = 1 ]; }
alt_off() { [ "$("${T[@]}" display-message -p -t top '#{alternate_on}')" = 0 ]; }
keys() { "${T[@]}" send-keys -t top "$@"; }
# modes_restored WHAT: after WHAT ended top, the shell takes commands again
# and the terminal modes are those from before top.
modes_restored() {
	rm -f "$TEST_TMP/stty.after"
	keys "stty -g > $TEST_TMP/stty.after" Enter
	wait_for 5 test -s "$TEST_TMP/stty.after" || fail "the shell does not take commands after $1"
	cmp -s "$TEST_TMP/stty.before" "$TEST_TMP/stty.after" || fail "terminal modes changed after $1"
}
# The table row of a peer: "[!] PEER NETNS COUNT ..." (the mark, then fields).
row_of() { screen | awk -v p="$1" '{ l = $0; m = substr(l, 1, 1); $0 = substr(l, 2) } $1 == p { print m "|" $0; exit }'; }
first_row() { screen | awk 'f && NF { print substr($0, 2); exit } /^ *PEER / || / PEER +NETNS/ { f = 1 }'; }
field_of() { row_of "$1" | cut -d'|' -f2 | awk -v n="$2" '{ print $n }'; }
# For wait_for, which runs its command again each time.
field_is() { [ "$(field_of "$1" "$2")" = "$3" ]; }
mark_is() { [ "$(row_of "$1" | cut -c1)" = "$2" ]; }
shown() { [ -n "$(row_of "$1")" ]; }
not_shown() { [ -z "$(row_of "$1")" ]; }
not_on_screen() { ! screen_has "$1"; }

START_TOP="ip netns exec $LAB_HOST $FINWATCH top ${LAB_SCOPE[*]} --max-per-peer $LIMIT --max-age 0 --max-total 0 --scan-interval 250ms --on-alert /bin/false"
keys "stty -g > $TEST_TMP/stty.before" Enter
wait_for 5 test -s "$TEST_TMP/stty.before" || fail "the tmux shell does not run commands"
keys "$START_TOP; echo top-exit=\$?" Enter
wait_for 15 screen_has '^finwatch top ' || fail "top did not draw: $(screen)"
alt_on || fail "top is not on the alternate screen"
pass "top draws on the alternate screen"

# Peer 3: a few orphans (the application closed; the peer never sends its
# FIN), older than peer 1's many held sockets (shutdown, fd kept).
spawn_server stuck3 "$LAB_P3" "$LAB_P3_V4:5303" hold
spawn_server stuck1 "$LAB_P1" "$LAB_P1_V4:5301" hold
spawn orph "$LAB_HOST" "$FWPEER" client --connect "$LAB_P3_V4:5303" --count "$ORPHANED" --how close --comm closer
wait_ready orph 15
wait_for 10 ss_expect "$LAB_HOST" fin-wait-2 "$ORPHANED" "$LAB_P3_V4" || fail "ss: no orphans to peer 3"
orph_at=$(_fw_now_us)
spawn held "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5301" --count "$HELD" --how shutdown \
	--hold-sec -1 --comm frontend
wait_ready held 15
wait_for 10 ss_expect "$LAB_HOST" fin-wait-2 "$HELD" "$LAB_P1_V4" || fail "ss: no held sockets to peer 1"

# Seed case: the stuck peer first, its count equal to ss's.
first_is() { [ "$(first_row | awk '{ print $1 }')" = "$1" ] && [ "$(field_of "$1" 3)" = "$2" ]; }
wait_for 10 first_is "$LAB_P1_V4" "$HELD" || fail "first row: $(first_row); want $LAB_P1_V4 with $HELD: $(screen)"
ss1=$(ss_count "$LAB_HOST" fin-wait-2 "$LAB_P1_V4")
[ "$ss1" = "$HELD" ] || fail "ss changed to $ss1"
[ "$(field_of "$LAB_P1_V4" 4)" = "$HELD" ] || fail "held column: $(row_of "$LAB_P1_V4")"
row_of "$LAB_P1_V4" | grep -q ' never' || fail "held sockets do not expire 'never': $(row_of "$LAB_P1_V4")"
row_of "$LAB_P1_V4" | grep -q 'frontend\[' || fail "the holder is not named: $(row_of "$LAB_P1_V4")"
pass "stuck peer first: $HELD = ss $ss1, expiry never, holder frontend"

wait_for 10 field_is "$LAB_P3_V4" 5 "$ORPHANED" || fail "orphans to peer 3: $(row_of "$LAB_P3_V4")"
[ "$(ss_count "$LAB_HOST" fin-wait-2 "$LAB_P3_V4")" = "$ORPHANED" ] || fail "ss disagrees on peer 3"
exp3=$(row_of "$LAB_P3_V4" | grep -Eo ' [0-9]+s(\.\.[0-9]+s)? ' | tail -n1 | tr -d ' ') || true
[ -n "$exp3" ] || fail "no expiry for the orphans: $(row_of "$LAB_P3_V4")"
row_of "$LAB_P3_V4" | grep -q never && fail "orphans only, yet 'never': $(row_of "$LAB_P3_V4")"
last=${exp3##*..}
last=${last%s}
waited=$((($(_fw_now_us) - orph_at) / 1000000))
if [ "$last" -gt "$FIN_TIMEOUT" ] || [ "$last" -lt $((FIN_TIMEOUT - waited - 2)) ]; then
	fail "orphans expire in $exp3, want about $FIN_TIMEOUT s minus their ${waited} s"
fi
pass "orphans: $ORPHANED = ss, expiry $exp3 (tcp_fin_timeout $FIN_TIMEOUT s)"

# The alert: peer 1 is over --max-per-peer, peer 3 is not.
wait_for 5 mark_is "$LAB_P1_V4" '!' || fail "no alert marker: $(row_of "$LAB_P1_V4")"
[ "$(row_of "$LAB_P3_V4" | cut -c1)" = ' ' ] || fail "peer 3 marked: $(row_of "$LAB_P3_V4")"
screen_has 'alerts firing 1' || fail "header does not count the alert: $(screen | head -n 3)"
# With colours (tmux's TERM has them) the row is red: SGR 31.
red_row() { "${T[@]}" capture-pane -p -e -t top | grep -F -- "$1" | grep -q $'\e\[[0-9;]*31m'; }
red_row "$LAB_P1_V4" || fail "the alert row is not red: $("${T[@]}" capture-pane -p -e -t top | grep -F "$LAB_P1_V4" | cat -v)"
red_row "$LAB_P3_V4" && fail "peer 3's row is red"
pass "alert marker (and red) on the stuck peer only, 'alerts firing 1' in the header"
# /bin/false fails; run from the image (test_image.sh), which has no /bin, it
# cannot be run at all: either is a warning the screen must show.
HOOK_WARNING="--on-alert: (hook pid [0-9]+ exited with status 1|cannot run '/bin/false': No such file or directory)"
wait_for 5 screen_has "^$HOOK_WARNING" || fail "the hook's failure is not on the status line: $(screen | head -n 4)"
pass "a warning shows on the status line, not over the screen"

# Sorting: by age the older orphans' peer comes first; by rate; back to count.
keys a
wait_for 3 first_is "$LAB_P3_V4" "$ORPHANED" || fail "sorted by age, first: $(first_row)"
screen_has 'sort: age' || fail "header does not say sort: age"
keys r
wait_for 3 screen_has 'sort: rate' || fail "header does not say sort: rate"
keys c
wait_for 3 first_is "$LAB_P1_V4" "$HELD" || fail "sorted by count, first: $(first_row)"
pass "keys a, r, c sort by age, rate, count"

# Filtering: only peer 3 is left; its detail lists the orphans, each with
# age + time left = the namespace's tcp_fin_timeout (within a second).
keys / "$LAB_P3_V4"
wait_for 3 screen_has "filter peers: $LAB_P3_V4" || fail "no filter prompt: $(screen | tail -n 2)"
keys Enter
wait_for 3 not_shown "$LAB_P1_V4" || fail "filter left peer 1 shown"
[ -n "$(row_of "$LAB_P3_V4")" ] || fail "filter hid peer 3"
screen_has "filter: $LAB_P3_V4" || fail "header does not show the filter"
pass "/ filters peers"

keys Enter
wait_for 3 screen_has "^peer $LAB_P3_V4 " || fail "no detail view: $(screen)"
wait_for 3 screen_has 'tcp_fin_timeout 30s' || fail "detail does not show the netns's tcp_fin_timeout: $(screen)"
# Socket lines: SPORT DPORT AGE KIND EXPIRES ...
socks=$(screen | awk '/^SPORT +DPORT/ { f = 1; next } f && $4 ~ /^orph/ { print $3, $5 }')
n=$(grep -c . <<<"$socks" || true)
[ "$n" = "$ORPHANED" ] || fail "detail lists $n orphans, want $ORPHANED: $(screen)"
while read -r age exp; do
	a=${age#>=}
	a=${a%s}
	e=${exp%s}
	[[ "$a" =~ ^[0-9]+$ && "$e" =~ ^[0-9]+$ ]] || fail "age '$age' or expiry '$exp' is not in seconds"
	sum=$((a + e))
	if [ "$sum" -lt $((FIN_TIMEOUT - 1)) ] || [ "$sum" -gt $((FIN_TIMEOUT + 1)) ]; then
		fail "an orphan aged $age expires in $exp: not tcp_fin_timeout $FIN_TIMEOUT s after it entered"
	fi
done <<<"$socks"
screen_has 'closer\[' || fail "detail does not name the closing process"
screen_has 'FIN_WAIT_2 lifetime' || fail "detail has no lifetime histogram"
pass "detail: $n orphans, each expiring $FIN_TIMEOUT s (±1) after entering FIN_WAIT_2"
keys Escape
wait_for 3 screen_has ' PEER ' || fail "Esc did not leave the detail"
keys / BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace Enter
wait_for 3 shown "$LAB_P1_V4" || fail "clearing the filter did not show peer 1 again: $(screen)"

# p pauses: the uptime stops.
keys p
wait_for 3 screen_has 'PAUSED' || fail "p did not pause"
keys p
wait_for 3 not_on_screen PAUSED || fail "p did not resume"
pass "p pauses and resumes"

# A resize redraws for the new size, dropping columns that do not fit.
"${T[@]}" resize-window -t top -x 100 -y 30
narrow() {
	local s
	s=$(screen)
	[ "$(awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' <<<"$s")" -le 100 ] &&
		grep -q '^finwatch top ' <<<"$s" && grep -Eq ' PEER .* EXPIRY' <<<"$s" &&
		! grep -q 'WORKLOAD' <<<"$s" && [ "$(field_of "$LAB_P1_V4" 2)" = "$HELD" ]
}
wait_for 5 narrow || fail "after a resize to 100x30: $(screen)"
"${T[@]}" resize-window -t top -x 160 -y 48
wait_for 5 screen_has 'WORKLOAD' || fail "after growing back: $(screen)"
pass "resizes redraw (100x30 drops columns, 160x48 has them all)"

# q quits with status 0 and leaves the terminal as it was.
keys q
wait_for 10 screen_has '^top-exit=0' || fail "q: $(screen | tail -n 5)"
alt_off || fail "still on the alternate screen after q"
screen_has '^finwatch top ' && fail "top's screen is still shown after q"
screen_has "^finwatch: $HOOK_WARNING" || fail "the warning is not printed again after q: $(screen)"
modes_restored q
pass "q: exit 0, alternate screen left, terminal modes as before"

# SIGTERM gives the terminal back too. This run's terminal (vt100) has no
# colours: the alert is the marker alone.
keys clear Enter "TERM=vt100 $START_TOP; echo top-exit=\$?" Enter
wait_for 15 screen_has '^finwatch top ' || fail "top did not start again"
wait_for 5 mark_is "$LAB_P1_V4" '!' || fail "no alert marker without colours: $(row_of "$LAB_P1_V4")"
red_row "$LAB_P1_V4" && fail "colours on a terminal that has none"
pass "without colours the alert row still has its marker"
shell_pid=$("${T[@]}" display-message -p -t top '#{pane_pid}')
# ip netns exec execs finwatch: the shell's child is finwatch itself (from
# the image, test_image.sh, finwatch is image_run.py's child).
finwatch_below() {
	local p c
	for p in $(pgrep -P "$1"); do
		case $(readlink "/proc/$p/exe") in */finwatch) echo "$p"; return 0 ;; esac
		c=$(finwatch_below "$p") && { echo "$c"; return 0; }
	done
	return 1
}
fw_pid=$(finwatch_below "$shell_pid") || fail "no finwatch process under the tmux shell: $(pstree -p "$shell_pid" 2>&1)"
kill -TERM "$fw_pid"
wait_for 10 screen_has '^top-exit=0' || fail "SIGTERM: $(screen | tail -n 5)"
alt_off || fail "still on the alternate screen after SIGTERM"
modes_restored SIGTERM
pass "SIGTERM: exit 0, terminal given back"

# A terminal type terminfo does not know: one line, exit 2.
keys clear Enter "TERM=no-such-terminal $FINWATCH top; echo top-exit=\$?" Enter
wait_for 5 screen_has '^top-exit=2' || fail "unknown TERM: $(screen | tail -n 5)"
screen_has "unknown terminal type 'no-such-terminal'" || fail "unknown TERM not named: $(screen | tail -n 5)"
pass "unknown terminal type: one-line error, exit 2"
