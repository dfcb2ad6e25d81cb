#!/usr/bin/env python3
"""circd core benchmark (make bench).  Prints figures; asserts nothing about time.

1. Throughput: N generated returns from the sim plugin through the bookdrop
   station -> journal commit (WAL, synchronous=FULL) -> jsonl (fsync'd),
   timed from READY until the last line is in the file, next to raw SQLite
   inserts of one row per event with the same durability, batched like the
   daemon's group commits, measured in the same run (sqlite_reference).
2. Idle footprint: RSS of the daemon with 16 sim devices idle, and its CPU
   time over 10 idle seconds (nothing should poll).
"""
import os, shutil, signal, socket, subprocess, sys, tempfile, time, json

builddir = os.environ.get("top_builddir", os.getcwd())
circd = os.environ.get("CIRCD_BIN", os.path.join(builddir, "circd"))
plugins = os.environ.get("CIRCD_PLUGIN_DIR", os.path.join(builddir, "plugins", ".libs"))
reference = os.path.join(builddir, "tests", "bench", "sqlite_reference")
N = int(os.environ.get("BENCH_EVENTS", "100000"))
IDLE_SECONDS = float(os.environ.get("BENCH_IDLE_SECONDS", "10"))


def start(tmp, devices, stations, upstreams):
    conf = os.path.join(tmp, "circd.conf")
    with open(conf, "w") as f:
        f.write(f'''site = "Bench";
state_directory = "{tmp}/state";
runtime_directory = "{tmp}/run";
plugin_directory = "{plugins}";
log_level = "warning";
journal = {{ backlog_soft_limit = 0; }};
devices = ( {devices} );
stations = ( {stations} );
upstreams = ( {upstreams} );
''')
    os.makedirs(os.path.join(tmp, "state"), exist_ok=True)
    notify = os.path.join(tmp, "notify.sock")
    if os.path.exists(notify):
        os.unlink(notify)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(notify)
    env = dict(os.environ, NOTIFY_SOCKET=notify)
    proc = subprocess.Popen([circd, "-c", conf, "--log-target=stderr"], env=env,
                            stderr=open(os.path.join(tmp, "circd.log"), "w"))
    sock.settimeout(30)
    while True:
        msg = sock.recv(4096).decode()
        if "READY=1" in msg:
            break
    t_ready = time.monotonic()
    sock.close()
    return proc, t_ready


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def count_lines(path):
    try:
        with open(path, "rb") as f:
            return sum(buf.count(b"\n") for buf in iter(lambda: f.read(1 << 20), b""))
    except FileNotFoundError:
        return 0


def commits(tmp):
    """Group commits the daemon made: ask its status."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.path.join(tmp, "run", "control.sock"))
    s.sendall(b'{"cmd":"status"}\n')
    buf = b""
    while not buf.endswith(b"\n"):
        buf += s.recv(65536)
    s.close()
    return json.loads(buf)["counters"].get("commits", 0)


# An ISO 28560-3 tag (item 30054321, owner DE526): with it every return goes
# through the tag decoder too.
TAG_MEM = "1101013330303534333231000000000000000072AB444535323600000000000000000000"


def throughput(tmp, decode=False):
    out = os.path.join(tmp, "out.jsonl")
    if os.path.exists(out):
        os.unlink(out)
    shutil.rmtree(os.path.join(tmp, "state"), ignore_errors=True)
    if decode:
        scn = os.path.join(tmp, "decode.scn")
        with open(scn, "w") as f:
            f.write(f"0 repeat count={N} interval=0 tag uid=E004%012d block_size=4 mem={TAG_MEM} dwell=0\n")
        device = f'{{ name = "drop1"; plugin = "sim"; scenario = "{scn}"; speed = 0.0; }}'
    else:
        device = f'{{ name = "drop1"; plugin = "sim"; generate_count = {N}; generate_interval_us = 0; }}'
    # The journal's throughput: no re-secure round trips to the reader
    # (bench_bookdrop.py measures the whole return path).
    proc, t0 = start(tmp, device,
                     '{ name = "returns"; role = "bookdrop"; devices = [ "drop1" ]; resecure = false; }',
                     f'{{ name = "out"; plugin = "jsonl"; path = "{out}"; }}')
    try:
        deadline = t0 + 600
        while count_lines(out) < N:
            if proc.poll() is not None or time.monotonic() > deadline:
                sys.exit("circd stopped or took too long; see its log")
            time.sleep(0.02)
        dt = time.monotonic() - t0
        n_commits = commits(tmp)
    finally:
        stop(proc)
    return N / dt, n_commits


def idle(tmp):
    devs = ", ".join(f'{{ name = "r{i}"; plugin = "sim"; }}' for i in range(16))
    proc, _ = start(tmp, devs, '{ name = "returns"; role = "bookdrop"; devices = [ "r0" ]; }',
                    f'{{ name = "out"; plugin = "jsonl"; path = "{tmp}/idle.jsonl"; }}')
    try:
        time.sleep(1)
        hz = os.sysconf("SC_CLK_TCK")

        def cpu():
            f = open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()
            return (int(f[11]) + int(f[12])) / hz
        rss_kb = next(int(l.split()[1]) for l in open(f"/proc/{proc.pid}/status") if l.startswith("VmRSS:"))
        c0 = cpu()
        time.sleep(IDLE_SECONDS)
        c1 = cpu()
    finally:
        stop(proc)
    return rss_kb, c1 - c0


def main():
    tmp = tempfile.mkdtemp(prefix="circd-bench.")
    try:
        rate, n_commits = throughput(tmp)
        rate_dec, _ = throughput(tmp, decode=True)
        batch = max(1, round(N / max(1, n_commits)))
        ref = float(subprocess.check_output([reference, tmp, str(N), str(batch)]).split()[1])
        ref100 = float(subprocess.check_output([reference, tmp, str(N), "100"]).split()[1])
        print(f"throughput: {N} returns sim -> journal (WAL, synchronous=FULL) -> jsonl (fsync)")
        print(f"  circd                      {rate:10.0f} events/s   ({n_commits} journal commits, ~{batch} rows each)")
        print(f"  circd, tag memory decoded  {rate_dec:10.0f} events/s   (every return an ISO 28560-3 tag)")
        print(f"  raw SQLite, batch {batch:<6}   {ref:10.0f} rows/s     ratio {rate / ref:.2f}")
        print(f"  raw SQLite, batch 100      {ref100:10.0f} rows/s     ratio {rate / ref100:.2f}")
        print(f"  goals: >= 20000 events/s ({'met' if rate >= 20000 else 'NOT met'}), "
              f">= 0.5 of raw batched ({'met' if rate / ref100 >= 0.5 else 'NOT met'})")
        rss_kb, cpu_s = idle(tmp)
        print(f"idle: 16 sim devices: RSS {rss_kb / 1024:.1f} MB (goal < 10 MB: {'met' if rss_kb < 10240 else 'NOT met'}), "
              f"CPU {cpu_s * 1000:.0f} ms over {IDLE_SECONDS:.0f} s idle")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
