#!/usr/bin/env python3
"""Writes or deletes N fake vxlan leases in ONE etcd transaction, through etcd's v3 JSON gateway.

Usage: leases.py put|del txn|each ENDPOINT PREFIX COUNT [TTL]
  put: grants an etcd lease of TTL seconds (default 600) and puts COUNT subnet leases
       PREFIX/subnets/10.200.0.0-24, 10.200.1.0-24, ... (10.200.0.0 + i*256) attached to it, with
       flannel's vxlan value: PublicIP 198.51.100.(1 + i % 254), VNI 1, a random locally
       administered unicast VtepMAC.
  del: deletes those COUNT keys.
  txn:  all COUNT operations in ONE transaction: one etcd revision, so every watcher gets all COUNT
        events "at once", in one watch response. etcd must allow that many operations per
        transaction (--max-txn-ops).
  each: one request per key, back to back: COUNT revisions, as COUNT nodes joining would make.
Prints the wall-clock times (seconds since the epoch, 6 decimals) at which the first request was sent
and the last one answered.
"""
import base64
import json
import os
import sys
import time
import urllib.request


def b64(text):
    return base64.b64encode(text.encode()).decode()


def post(endpoint, path, body):
    req = urllib.request.Request(endpoint + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"{}")


def subnet_key(prefix, i):
    v = (10 << 24) | (200 << 16) | (i << 8)
    return "%s/subnets/%d.%d.%d.0-24" % (prefix, v >> 24, (v >> 16) & 255, (v >> 8) & 255)


def random_mac():
    b = bytearray(os.urandom(6))
    b[0] = (b[0] & 0xFE) | 0x02  # unicast, locally administered
    return ":".join("%02x" % x for x in b)


def main(argv):
    if len(argv) not in (6, 7) or argv[1] not in ("put", "del") or argv[2] not in ("txn", "each"):
        sys.exit(__doc__)
    mode, how, endpoint, prefix, count = argv[1], argv[2], argv[3], argv[4].rstrip("/"), int(argv[5])
    if not 1 <= count <= 65536:
        sys.exit("COUNT must be 1..65536, got %d" % count)
    ops = []
    if mode == "put":
        ttl = int(argv[6]) if len(argv) == 7 else 600
        lease = post(endpoint, "/v3/lease/grant", {"TTL": ttl})["ID"]
        for i in range(count):
            value = json.dumps({"PublicIP": "198.51.100.%d" % (1 + i % 254), "PublicIPv6": None,
                                "BackendType": "vxlan",
                                "BackendData": {"VNI": 1, "VtepMAC": random_mac()}}, separators=(",", ":"))
            ops.append({"request_put": {"key": b64(subnet_key(prefix, i)), "value": b64(value), "lease": lease}})
    else:
        for i in range(count):
            ops.append({"request_delete_range": {"key": b64(subnet_key(prefix, i))}})
    sent = time.time()
    if how == "txn":
        answer = post(endpoint, "/v3/kv/txn", {"success": ops})
        if not answer.get("succeeded"):
            sys.exit("etcd refused the transaction: %s" % json.dumps(answer)[:400])
    else:
        for op in ops:
            if "request_put" in op:
                post(endpoint, "/v3/kv/put", op["request_put"])
            else:
                post(endpoint, "/v3/kv/deleterange", op["request_delete_range"])
    print("%.6f %.6f" % (sent, time.time()))


if __name__ == "__main__":
    main(sys.argv)
