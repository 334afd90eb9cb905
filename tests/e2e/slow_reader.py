#!/usr/bin/env python3
"""A deliberately slow consumer for finwatch's stdout (test_overload.sh):
copies stdin to stdout in chunks of at most 4 KiB with a pause after each
(default 5 ms, i.e. under 1 MB/s), so a fast producer fills its pipe and
blocks. Stops at EOF.

  slow_reader.py [PAUSE_MS]
"""
import os
import sys
import time

pause = (float(sys.argv[1]) if len(sys.argv) > 1 else 5.0) / 1000.0
while True:
    buf = os.read(0, 4096)
    if not buf:
        break
    os.write(1, buf)
    time.sleep(pause)
