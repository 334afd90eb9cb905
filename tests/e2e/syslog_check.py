#!/usr/bin/env python3
"""Checks what finwatch --syslog sent, as written by test_logs.sh's rsyslogd
(template "programname|facility|severity|msg", one message per line).

  syslog_check.py FILE PEER NETNS [firing] [resolved] [exits=N]
      firing:   exactly one max_per_peer firing alert for PEER in network
                namespace NETNS (inode), as a JSON text,
                facility daemon, severity warning, count above 5
      resolved: exactly one max_per_peer resolved alert for PEER, daemon.notice
      exits=N:  exactly N "fw2_exit peer=PEER netns=NETNS ..." lines, daemon.info
Exit 0 when all hold, 1 (reason on stderr) when not; a finwatch message that
starts with "{" but is not valid JSON fails at once (exit 3).
"""
import json
import sys


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    path, peer, netns, want = argv[1], argv[2], int(argv[3]), argv[4:]
    alerts, exits = [], 0
    try:
        f = open(path, encoding="utf-8", errors="replace")
    except OSError as e:
        sys.stderr.write("%s\n" % e)
        return 1
    with f:
        for line in f:
            parts = line.rstrip("\n").split("|", 3)
            if len(parts) != 4 or parts[0] != "finwatch":
                continue
            fac, sev, msg = parts[1], parts[2], parts[3].strip()
            if msg.startswith("{"):
                try:
                    a = json.loads(msg)
                except ValueError as e:
                    sys.stderr.write("finwatch sent a broken JSON alert (%s): %s\n" % (e, msg[:200]))
                    return 3
                if (a.get("type") == "alert" and a.get("peer") == peer and a.get("netns") == netns
                        and a.get("rule") == "max_per_peer"):
                    alerts.append((fac, sev, a))
            elif msg.startswith("fw2_exit peer=%s netns=%d " % (peer, netns)):
                if (fac, sev) != ("daemon", "info"):
                    sys.stderr.write("fw2_exit sent as %s.%s, want daemon.info\n" % (fac, sev))
                    return 1
                exits += 1
    for w in want:
        if w in ("firing", "resolved"):
            sev_want = "warning" if w == "firing" else "notice"
            hits = [(f, s, a) for f, s, a in alerts if a.get("state") == w]
            good = [a for f, s, a in hits if f == "daemon" and s == sev_want
                    and (a.get("count", 0) > 5) == (w == "firing")]
            if len(hits) != 1 or len(good) != 1:
                sys.stderr.write("%d %s alerts for %s (%d as daemon.%s with the right count)\n"
                                 % (len(hits), w, peer, len(good), sev_want))
                return 1
        elif w.startswith("exits="):
            if exits != int(w[6:]):
                sys.stderr.write("%d fw2_exit lines for %s, want %s\n" % (exits, peer, w[6:]))
                return 1
        else:
            sys.stderr.write("unknown check %r\n" % w)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
