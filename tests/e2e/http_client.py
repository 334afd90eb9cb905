#!/usr/bin/env python3
"""Small HTTP client for the finwatch e2e tests (no curl needed). Every
network operation has a timeout; loopback only in practice.

  http_client.py get URL [TIMEOUT]
      GET URL; body on stdout, exit 0 on 200, else the status on stderr, exit 1.
  http_client.py status METHOD URL [TIMEOUT]
      Prints the status code (and the Allow header when there is one) of a
      request without a body, e.g. "405 GET". Exit 1 if no response.
  http_client.py raw HOST PORT HEX_OR_SPEC [TIMEOUT]
      Sends bytes on one connection and prints what the server did:
      "status N" (first line of an HTTP response), "closed" (closed without
      a response) or "timeout" (nothing within TIMEOUT). SPEC "bigheader:N"
      sends a GET /metrics with one N-byte header; otherwise hex bytes.
  http_client.py hold HOST PORT HEX [MAX_SECONDS]
      Slow client: connects, sends the hex bytes (may be empty: "-"), prints
      "ready" and then waits, without sending more, until the server closes
      the connection ("closed after S s") or MAX_SECONDS pass ("still open").
  http_client.py prom_value URL QUERY [TIMEOUT]
      Instant query against a Prometheus server's /api/v1/query; prints the
      value of the single result (nothing if there is no result). Exit 1 on
      an API error or several results.
"""
import json
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def cmd_get(url, timeout):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            body = r.read()
            sys.stdout.buffer.write(body)
            return 0
    except urllib.error.HTTPError as e:
        sys.stderr.write("HTTP %d from %s\n" % (e.code, url))
    except (OSError, ValueError) as e:
        sys.stderr.write("GET %s failed: %s\n" % (url, e))
    return 1


def cmd_status(method, url, timeout):
    req = urllib.request.Request(url, method=method, data=b"" if method in ("POST", "PUT") else None)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            code, allow = r.status, r.headers.get("Allow")
    except urllib.error.HTTPError as e:
        code, allow = e.code, e.headers.get("Allow")
    except (OSError, ValueError) as e:
        sys.stderr.write("%s %s failed: %s\n" % (method, url, e))
        return 1
    print(code if allow is None else "%d %s" % (code, allow))
    return 0


def connect(host, port, timeout):
    s = socket.create_connection((host, int(port)), timeout=timeout)
    s.settimeout(timeout)
    return s


def cmd_raw(host, port, spec, timeout):
    if spec.startswith("bigheader:"):
        n = int(spec.split(":", 1)[1])
        data = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * n + b"\r\n\r\n"
    else:
        data = bytes.fromhex(spec)
    s = connect(host, port, timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may refuse before reading everything
        buf = b""
        while b"\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
    except socket.timeout:
        print("timeout")
        return 0
    except ConnectionResetError:
        buf = b""
    finally:
        s.close()
    if buf.startswith(b"HTTP/"):
        parts = buf.split(b"\r\n", 1)[0].split()
        print("status %s" % parts[1].decode("ascii", "replace") if len(parts) > 1 else "status ?")
    else:
        print("closed")
    return 0


def cmd_hold(host, port, hexdata, max_s):
    t0 = time.monotonic()
    s = connect(host, port, 5)
    if hexdata != "-":
        s.sendall(bytes.fromhex(hexdata))
    print("ready", flush=True)
    s.settimeout(0.2)
    while time.monotonic() - t0 < max_s:
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            continue
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            print("closed after %.1f s" % (time.monotonic() - t0), flush=True)
            return 0
    print("still open", flush=True)
    return 0


def cmd_prom_value(url, query, timeout):
    full = url.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": query})
    try:
        with urllib.request.urlopen(full, timeout=timeout) as r:
            doc = json.load(r)
    except (OSError, ValueError) as e:
        sys.stderr.write("query failed: %s\n" % e)
        return 1
    if doc.get("status") != "success":
        sys.stderr.write("query error: %s\n" % doc)
        return 1
    res = doc["data"]["result"]
    if len(res) > 1:
        sys.stderr.write("%d results, want one: %s\n" % (len(res), res))
        return 1
    if res:
        print(res[0]["value"][1])
    return 0


def main(a):
    try:
        if len(a) >= 3 and a[1] == "get":
            return cmd_get(a[2], float(a[3]) if len(a) > 3 else 3)
        if len(a) >= 4 and a[1] == "status":
            return cmd_status(a[2], a[3], float(a[4]) if len(a) > 4 else 3)
        if len(a) >= 5 and a[1] == "raw":
            return cmd_raw(a[2], a[3], a[4], float(a[5]) if len(a) > 5 else 3)
        if len(a) >= 5 and a[1] == "hold":
            return cmd_hold(a[2], a[3], a[4], float(a[5]) if len(a) > 5 else 10)
        if len(a) >= 4 and a[1] == "prom_value":
            return cmd_prom_value(a[2], a[3], float(a[4]) if len(a) > 4 else 3)
    except OSError as e:
        sys.stderr.write("http_client.py %s: %s\n" % (a[1], e))
        return 1
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
