# SPDX-License-Identifier: LGPL-2.1-or-later
"""The I/O side the reader emulators in tests/emulators/ share, for tests.

How an emulator is reached, one of

    --pty-fd N       the master side of a pty the caller opened (inherited)
    --pty            a pty of its own; prints "PTY /dev/pts/N" (not every
                     emulator offers it)
    --tcp PORT       127.0.0.1:PORT (0 = any; prints "TCP <port>"), one
                     client at a time

how it takes orders (--control FILE: the test appends lines, each complete
line is handed to the reader's control()), how it reports (--state FILE,
written whole and renamed into place) and how its cable is pulled (the
reader's unplug_until: TCP connections are closed and refused until then).

Standard library only.  It knows nothing of the readers' protocols (each
emulator keeps its own framing, commands and control lines) nor of the
plugins under test.
"""
import os
import pty
import select
import socket
import time
import tty


def add_arguments(ap, own_pty=True):
    """The transport, control and state options (--pty only with own_pty)."""
    ap.add_argument("--pty-fd", type=int)
    if own_pty:
        ap.add_argument("--pty", action="store_true")
    ap.add_argument("--tcp", type=int)
    ap.add_argument("--control")
    ap.add_argument("--state")


def write_state(path, lines):
    """The state file at path, one line each, replaced at once."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, path)


class ControlFile:
    """The lines a test appends to --control FILE, each complete one once."""

    def __init__(self, path):
        self.path = path
        self.pos = 0

    def read(self):
        if not self.path or not os.path.exists(self.path):
            return []
        with open(self.path) as f:
            f.seek(self.pos)
            text = f.read()
        complete = text[:text.rfind("\n") + 1]
        self.pos += len(complete.encode())
        return complete.splitlines()


def serve(ap, args, reader, new_stream, respond, read_size=512, push=None, greeting=None,
          exit_own_pty_on_unplug=False, drop_while_unplugged=False):
    """Run the emulator until its transport fails; returns the exit status.

    reader: has control(line), save_state() and unplug_until (a
    time.monotonic() value).  new_stream(): a fresh request parser (one per
    connection) whose feed(bytes) returns the complete requests so far;
    respond(request) -> the bytes to send back (b"": none).  push(): bytes
    the reader sends of its own accord now (what comes while no peer is
    connected is lost); greeting(): bytes for each new TCP connection.
    While unplugged, exit_own_pty_on_unplug ends a --pty emulator (a pty
    cannot come back under the same name) and drop_while_unplugged throws
    away what arrives on a pty.
    """
    own_pty = getattr(args, "pty", None)
    control = ControlFile(args.control)
    listener = conn = sock = None
    if args.pty_fd is not None:
        conn = args.pty_fd
        os.set_blocking(conn, True)
    elif own_pty:
        conn, slave = pty.openpty()
        tty.setraw(slave)
        print("PTY %s" % os.ttyname(slave), flush=True)
    elif args.tcp is not None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", args.tcp))
        listener.listen(4)
        print("TCP %d" % listener.getsockname()[1], flush=True)
    else:
        ap.error("need --pty-fd, --pty or --tcp" if own_pty is not None
                 else "need --pty-fd or --tcp")
    reader.save_state()
    stream = new_stream()

    def send(data):
        nonlocal sock
        try:
            if sock is not None:
                sock.sendall(data)
            elif conn is not None:
                os.write(conn, data)
        except OSError:
            if sock is not None:
                sock.close()
                sock = None

    while True:
        for line in control.read():
            reader.control(line)
        unplugged = time.monotonic() < reader.unplug_until
        if unplugged and sock is not None:
            sock.close()
            sock, stream = None, new_stream()
        if unplugged and own_pty and exit_own_pty_on_unplug:
            return 0
        if push is not None:
            out = push()
            if out and (sock is not None or conn is not None):
                send(out)
        fds = []
        if sock is not None:
            fds.append(sock)
        elif conn is not None:
            fds.append(conn)
        if listener is not None:
            fds.append(listener)
        try:
            ready, _, _ = select.select(fds, [], [], 0.01)
        except (OSError, ValueError):
            return 0
        for r in ready:
            if r is listener:
                s, _ = listener.accept()
                if unplugged or sock is not None:
                    s.close()  # one client at a time, none while unplugged
                else:
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    sock, stream = s, new_stream()
                    if greeting is not None:
                        send(greeting())
                continue
            try:
                data = sock.recv(read_size) if r is sock else os.read(conn, read_size)
            except OSError:
                data = b""
            if not data:
                if r is sock:
                    sock.close()
                    sock = None
                    continue
                time.sleep(0.01)  # pty slave not open (yet/anymore)
                continue
            if unplugged and drop_while_unplugged:
                stream = new_stream()  # the cable is out: the bytes go nowhere
                continue
            for request in stream.feed(data):
                out = respond(request)
                if out:
                    send(out)
            reader.save_state()
