# ICMP echo and TCP responder for one ispmon probe target, run inside the target's network namespace
# (the kernel's own echo replies are switched off there). Latency, jitter and loss come from a JSON
# control file the lab rewrites; they apply to every echo reply, so ping and the exporter's ICMP
# probes see them exactly as they would see a slow or lossy link. (tc netem is not in this kernel.)
import json, os, random, socket, struct, sys, threading, time

control_path, tcp_port = sys.argv[1], int(sys.argv[2])
settings = {"latency_ms": 0.0, "jitter_ms": 0.0, "loss": 0.0}
stamp = None

def refresh():
    global settings, stamp
    try:
        st = os.stat(control_path)
        if (st.st_mtime_ns, st.st_size) != stamp:
            with open(control_path) as f:
                settings = json.load(f)
            stamp = (st.st_mtime_ns, st.st_size)
    except (OSError, ValueError):
        pass

def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF

def tcp_server():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", tcp_port))
    srv.listen(128)
    while True:
        conn, _ = srv.accept()
        conn.close()

threading.Thread(target=tcp_server, daemon=True).start()
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
print("ready", flush=True)
while True:
    packet, (src, _) = raw.recvfrom(65535)
    ihl = (packet[0] & 0x0F) * 4
    icmp = packet[ihl:]
    if len(icmp) < 8 or icmp[0] != 8:
        continue
    refresh()
    if random.random() < settings.get("loss", 0.0):
        continue
    reply = bytearray(b"\x00\x00\x00\x00" + icmp[4:])
    struct.pack_into("!H", reply, 2, checksum(bytes(reply)))
    delay = max(0.0, settings.get("latency_ms", 0.0) + random.uniform(-1, 1) * settings.get("jitter_ms", 0.0)) / 1000.0
    threading.Timer(delay, raw.sendto, args=(bytes(reply), (src, 0))).start()
