#!/usr/bin/env python3
"""Records a real vtest client session as fuzz seeds.

Listens on LISTEN, forwards everything (bytes and SCM_RIGHTS fds, both ways) to the vtest
server on UPSTREAM, and writes what the client sent to OUT/client.bin. Then it cuts that
stream into requests and writes every SUBMIT_CMD payload as OUT/submit-NNN.bin (little-endian
dwords). `fuzz/tools/record_seeds.sh` uses it to seed the vtest_frame, command_stream and
command_exec corpora from Mesa's virpipe driver (gl-scenes, wflinfo).

usage: vtest_record.py LISTEN UPSTREAM OUT
"""
import os
import select
import socket
import struct
import sys

VCMD_CREATE_RENDERER = 8
VCMD_SUBMIT_CMD = 6


def pump(src, dst, log):
    data, fds, _flags, _addr = socket.recv_fds(src, 1 << 16, 16)
    if not data:
        return False
    if log is not None:
        log.write(data)
    if fds:
        # The kernel ends a read at the message that carried the fds (the server's one-byte
        # fd message): send the bytes before it plainly and the fds on the last byte alone, so
        # a client reading the header with plain read() cannot swallow them.
        if len(data) > 1:
            dst.sendall(data[:-1])
        socket.send_fds(dst, [data[-1:]], fds)
        for fd in fds:
            os.close(fd)
    else:
        dst.sendall(data)
    return True


def split(stream, out):
    pos, n = 0, 0
    while pos + 8 <= len(stream):
        length, cmd = struct.unpack_from("<II", stream, pos)
        pos += 8
        if cmd == VCMD_SUBMIT_CMD:
            body = stream[pos:pos + 4 * length]
            with open(os.path.join(out, f"submit-{n:03}.bin"), "wb") as f:
                f.write(body)
            n += 1
        # Every command a protocol-v4 Mesa client sends carries `length` dwords, except
        # CREATE_RENDERER, whose length counts bytes.
        if cmd == VCMD_CREATE_RENDERER:  # length is in bytes
            pos += length
        else:
            pos += 4 * length
    return n


def main():
    listen, upstream, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(listen):
        os.unlink(listen)
    srv.bind(listen)
    srv.listen(1)
    print("ready", flush=True)
    client, _ = srv.accept()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.connect(upstream)
    with open(os.path.join(out, "client.bin"), "wb") as log:
        live = True
        while live:
            ready, _, _ = select.select([client, server], [], [])
            for s in ready:
                if s is client:
                    live = pump(client, server, log) and live
                else:
                    live = pump(server, client, None) and live
    stream = open(os.path.join(out, "client.bin"), "rb").read()
    print(f"client bytes: {len(stream)}, submits: {split(stream, out)}")


if __name__ == "__main__":
    main()
