import concurrent.futures
import os
import socket
import time
import uuid

import pytest
from botocore.config import Config

from herokuify_dev.proxy import S3Proxy, classify, running_proxy
from herokuify_dev.s3server import make_client


def _bucket(s3_server):
    name = f"proxy-{uuid.uuid4().hex[:12]}"
    s3_server.create_bucket(name)
    return name


def test_classify():
    assert classify("GET", "/b/k", "127.0.0.1:1") == "GET"
    assert classify("GET", "/b?list-type=2&prefix=x", "127.0.0.1:1") == "LIST"
    assert classify("GET", "/b/", "127.0.0.1:1") == "LIST"
    assert classify("GET", "/", "127.0.0.1:1") == "LIST"
    assert classify("GET", "/?list-type=2", "b.localhost:9") == "LIST"
    assert classify("GET", "/k", "b.localhost:9") == "GET"
    assert classify("PUT", "/b/k?partNumber=1&uploadId=x", "127.0.0.1:1") == "PUT"


def test_counts_for_each_operation(s3_server):
    bucket = _bucket(s3_server)
    with running_proxy(s3_server.endpoint_url) as proxy:
        c = make_client(proxy.endpoint_url)
        c.put_object(Bucket=bucket, Key="a.txt", Body=b"hello")
        assert c.get_object(Bucket=bucket, Key="a.txt")["Body"].read() == b"hello"
        assert c.list_objects_v2(Bucket=bucket)["KeyCount"] == 1
        c.head_object(Bucket=bucket, Key="a.txt")
        c.delete_object(Bucket=bucket, Key="a.txt")
        assert proxy.counts() == {"PUT": 1, "GET": 1, "LIST": 1, "HEAD": 1, "DELETE": 1, "POST": 0}
        proxy.reset()
        assert set(proxy.counts().values()) == {0}

        # multipart: create (POST), 3 parts (PUT), complete (POST)
        part = 5 * 1024 * 1024
        mp = c.create_multipart_upload(Bucket=bucket, Key="big.bin")
        parts = []
        for n in (1, 2, 3):
            body = bytes([n]) * (part if n < 3 else 10)
            r = c.upload_part(
                Bucket=bucket, Key="big.bin", UploadId=mp["UploadId"], PartNumber=n, Body=body
            )
            parts.append({"ETag": r["ETag"], "PartNumber": n})
        c.complete_multipart_upload(
            Bucket=bucket, Key="big.bin", UploadId=mp["UploadId"], MultipartUpload={"Parts": parts}
        )
        assert c.head_object(Bucket=bucket, Key="big.bin")["ContentLength"] == 2 * part + 10
        c.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "big.bin"}]})
        assert proxy.counts() == {"PUT": 3, "GET": 0, "LIST": 0, "HEAD": 1, "DELETE": 0, "POST": 3}
        assert proxy.method_counts() == {"POST": 3, "PUT": 3, "HEAD": 1}


def test_errors_pass_through(s3_server):
    with running_proxy(s3_server.endpoint_url) as proxy:
        c = make_client(proxy.endpoint_url)
        with pytest.raises(c.exceptions.ClientError) as head_error:
            c.head_object(Bucket="no-such-bucket-x", Key="k")
        assert head_error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        with pytest.raises(c.exceptions.NoSuchBucket):
            c.get_object(Bucket="no-such-bucket-x", Key="k")
        assert proxy.counts()["HEAD"] == 1 and proxy.counts()["GET"] == 1


def test_large_upload_with_expect_and_transfer_manager(s3_server, tmp_path):
    """upload_file uses Expect: 100-continue and parallel multipart parts on kept connections."""
    bucket = _bucket(s3_server)
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(1024 * 1024) * 40)  # 40 MB
    with running_proxy(s3_server.endpoint_url) as proxy:
        c = make_client(proxy.endpoint_url)
        c.upload_file(str(src), bucket, "big.bin")  # default threshold 8 MB: multipart, 10 threads
        counts = proxy.counts()
        assert counts["POST"] == 2 and counts["PUT"] == 5, counts
        dst = tmp_path / "back.bin"
        c.download_file(bucket, "big.bin", str(dst))
        assert dst.read_bytes() == src.read_bytes()
        # single PUT above 1 MB carries Expect: 100-continue
        c.put_object(Bucket=bucket, Key="two.bin", Body=b"x" * (2 * 1024 * 1024))
        assert c.get_object(Bucket=bucket, Key="two.bin")["ContentLength"] == 2 * 1024 * 1024


def test_concurrency_and_latency(s3_server):
    bucket = _bucket(s3_server)
    with running_proxy(s3_server.endpoint_url, latency_ms=20) as proxy:
        c = make_client(proxy.endpoint_url, config=Config(max_pool_connections=32))
        t = time.monotonic()
        c.put_object(Bucket=bucket, Key="warm", Body=b"")
        single = time.monotonic() - t
        assert single >= 0.02

        def put(i):
            c.put_object(Bucket=bucket, Key=f"k/{i}", Body=str(i).encode())
            return c.get_object(Bucket=bucket, Key=f"k/{i}")["Body"].read()

        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            results = list(pool.map(put, range(200)))
        assert results == [str(i).encode() for i in range(200)]
        # The latency is served side by side, not one request after another: a count rather than
        # a time, so that a busy machine cannot fail it.
        assert proxy.peak_concurrency() >= 8, proxy.peak_concurrency()
        assert proxy.counts()["PUT"] == 201 and proxy.counts()["GET"] == 200


def test_keep_alive_reuses_one_connection(s3_server):
    bucket = _bucket(s3_server)
    with running_proxy(s3_server.endpoint_url) as proxy:
        host, port = proxy.endpoint_url.rsplit("/", 1)[1].split(":")
        with socket.create_connection((host, int(port))) as sock:
            f = sock.makefile("rb")
            for _ in range(3):
                sock.sendall(f"GET /{bucket}?list-type=2 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                status = f.readline()
                assert b" 200 " in status
                length = 0
                while (line := f.readline()) != b"\r\n":
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                f.read(length)
        assert proxy.counts()["LIST"] == 3


def test_stop_with_open_connections(s3_server):
    proxy = S3Proxy(s3_server.endpoint_url).start()
    c = make_client(proxy.endpoint_url)
    c.list_buckets()
    proxy.stop()
    proxy.stop()  # idempotent


def test_handler_is_the_fault_hook(s3_server):
    """A wrapper around forward can answer for the proxy (the seam later fault injection uses)."""
    bucket = _bucket(s3_server)
    with running_proxy(s3_server.endpoint_url) as proxy:
        seen = []

        async def first_put_fails(conn, request):
            seen.append((request.method, request.kind))
            if request.method == "PUT" and len([m for m, _ in seen if m == "PUT"]) == 1:
                body = int(request.header("content-length") or 0)
                await conn.reader.readexactly(body)
                conn.writer.write(b"HTTP/1.1 503 Slow Down\r\nContent-Length: 0\r\n\r\n")
                await conn.writer.drain()
                return True
            return await proxy.forward(conn, request)

        proxy.handler = first_put_fails
        c = make_client(proxy.endpoint_url)
        c.put_object(Bucket=bucket, Key="retry.txt", Body=b"x")  # botocore retries the 503
        assert c.get_object(Bucket=bucket, Key="retry.txt")["Body"].read() == b"x"
        assert seen == [("PUT", "PUT"), ("PUT", "PUT"), ("GET", "GET")]
        assert proxy.counts()["PUT"] == 2 and proxy.counts()["GET"] == 1
