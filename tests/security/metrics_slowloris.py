import socket, sys, time
port = int(sys.argv[1]); dur = float(sys.argv[2])
socks = []
for src in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
    for i in range(8):
        s = socket.socket()
        try:
            s.bind((src, 0)); s.connect(("127.0.0.1", port)); s.send(b"G")
            socks.append(s)
        except OSError as e:
            print("connect", src, e)
print("held", len(socks), flush=True)
end = time.time() + dur
while time.time() < end:
    time.sleep(2)
    for s in list(socks):
        try: s.send(b"E")
        except OSError: socks.remove(s)
print("alive at end", len(socks), flush=True)
