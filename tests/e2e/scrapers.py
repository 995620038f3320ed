# SPDX-License-Identifier: GPL-2.0
"""N concurrent clients scraping an exporter, each once a second, until
SIGTERM (the soak's, tests/soak.sh). Every scrape must answer 200 with a
whole page (kvmrt_build_info in it). At the end, one line: scrapes done and
failed (the first failure said), and how long they took (median, max);
exit 1 if any failed.

One thread and non-blocking sockets (HTTP/1.0, a connection per scrape):
the load is the exporter's, not the clients' own (a thread and urllib per
client took a CPU of their own where the CPU is emulated).

usage: scrapers.py N HOST PORT
"""
import selectors
import signal
import socket
import sys
import time

TIMEOUT = 60


def main():
    n, host, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    request = f"GET /metrics HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n".encode()
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    sel = selectors.DefaultSelector()
    now = time.monotonic()
    due = [now + i / n for i in range(n)]  # spread over the first second
    busy = {}  # client -> (socket, started, chunks)
    done, failed, took = 0, [], []

    def finish(c, ok, why):
        nonlocal done
        s, t0, _ = busy.pop(c)
        sel.unregister(s)
        s.close()
        done += 1
        took.append(time.monotonic() - t0)
        if not ok:
            failed.append(why)
        due[c] = t0 + 1.0

    while not stopping or busy:
        now = time.monotonic()
        if not stopping:
            for c in range(n):
                if c not in busy and due[c] <= now:
                    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    s.setblocking(False)
                    s.connect_ex((host, port))
                    busy[c] = (s, now, [])
                    sel.register(s, selectors.EVENT_WRITE, c)
        wait = min([d for c, d in enumerate(due) if c not in busy] + [now + 0.2]) - now
        for key, ev in sel.select(max(0.0, wait)):
            c = key.data
            s, t0, chunks = busy[c]
            try:
                if ev & selectors.EVENT_WRITE:
                    s.sendall(request)  # small: the socket buffer takes it whole
                    sel.modify(s, selectors.EVENT_READ, c)
                    continue
                b = s.recv(1 << 16)
            except OSError as e:
                finish(c, False, str(e))
                continue
            if b:
                chunks.append(b)
                continue
            page = b"".join(chunks)
            ok = page.startswith((b"HTTP/1.0 200", b"HTTP/1.1 200")) and b"\nkvmrt_build_info{" in page
            finish(c, ok, f"{page[:40]!r}, {len(page)} bytes")
        for c in [c for c, (_, t0, _) in busy.items() if time.monotonic() - t0 > TIMEOUT]:
            finish(c, False, f"no answer in {TIMEOUT} s")
    took.sort()
    print(f"{n} clients: {done} scrapes, {len(failed)} failed"
          + (f" (first: {failed[0]})" if failed else "")
          + (f"; each took {took[len(took) // 2] * 1e3:.0f} ms (median), "
             f"{took[-1] * 1e3:.0f} ms (max)" if took else ""))
    sys.exit(1 if failed else 0)


main()
