"""How the cluster's parts prove who they are: a token or user in the URL, an nkey seed, TLS; each refusal says why."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import nkeys
import pytest

from tests.nats_server import NatsServer
from workbench.engine.config import ClusterConfig
from workbench.engine.transports.cluster.connection import ClusterError, ClusterRefused, ClusterUnreachable, connect


async def test_a_user_and_password_in_the_url_let_a_part_in_and_wrong_ones_do_not(tmp_path: Path) -> None:
    with NatsServer(tmp_path / "js", args=["--user", "fleet", "--pass", "s3cret"]) as server:
        client = await connect(ClusterConfig(url=f"nats://fleet:s3cret@127.0.0.1:{server.port}"), name="t")
        await client.close()
        with pytest.raises(ClusterRefused, match="refused the credentials") as refused:
            await connect(ClusterConfig(url=f"nats://fleet:guess@127.0.0.1:{server.port}"), name="t")
        assert "guess" not in str(refused.value) and "s3cret" not in str(refused.value)
    with pytest.raises(ClusterUnreachable, match=f"no NATS server answered at nats://127.0.0.1:{server.port}"):
        await connect(ClusterConfig(url=server.url), name="t")


async def test_an_nkey_seed_file_lets_a_part_in(tmp_path: Path) -> None:
    seed = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)
    user = nkeys.from_seed(bytearray(seed)).public_key.decode()
    (tmp_path / "user.nk").write_bytes(seed)
    (tmp_path / "server.conf").write_text(f'authorization {{ users = [ {{ nkey: "{user}" }} ] }}\n')
    with NatsServer(tmp_path / "js", args=["-c", str(tmp_path / "server.conf")]) as server:
        client = await connect(ClusterConfig(url=server.url, nkey=tmp_path / "user.nk"), name="t")
        await client.close()
        other = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)
        (tmp_path / "other.nk").write_bytes(other)
        with pytest.raises(ClusterRefused):
            await connect(ClusterConfig(url=server.url, nkey=tmp_path / "other.nk"), name="t")
        with pytest.raises(ClusterError, match="does not exist"):
            await connect(ClusterConfig(url=server.url, nkey=tmp_path / "missing.nk"), name="t")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl makes the test's certificate")
async def test_tls_is_used_when_the_url_says_so_and_an_unknown_certificate_is_refused(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    tls = ["--tls", "--tlscert", str(cert), "--tlskey", str(key)]
    with NatsServer(tmp_path / "js", args=tls) as server:
        url = f"tls://127.0.0.1:{server.port}"
        client = await connect(ClusterConfig(url=url, tls_ca=cert), name="t")
        assert client.is_connected
        await client.close()
        with pytest.raises(ClusterUnreachable, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            await connect(ClusterConfig(url=url), name="t")  # the system's authorities do not know it
