import socket
import urllib.request

import pytest

from herokuify_dev.s3server import PortTakenError, S3Server, running_s3_server


def test_start_and_stop():
    with running_s3_server() as server:
        server.create_bucket("eu-bucket", region="eu-west-1")
        assert (
            server.client().get_bucket_location(Bucket="eu-bucket")["LocationConstraint"]
            == "eu-west-1"
        )
        url = server.endpoint_url
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/", timeout=2)


def test_dies_with_its_stderr_tail():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(PortTakenError, match=r"exited with code .*\n.*(in use|Errno)"):
            S3Server(port=port)
