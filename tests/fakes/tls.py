"""A throw-away certificate authority for HTTPS fakes (``trustme``).

Nothing here imports the package under test.
"""
from __future__ import annotations

import ssl
from pathlib import Path

import trustme


def make_tls(tmpdir) -> tuple[ssl.SSLContext, Path]:
    """Return ``(server_ssl_context, ca_pem_path)``.

    The server certificate is valid for ``127.0.0.1`` and ``localhost``; the CA
    certificate is written to ``<tmpdir>/fake-ca.pem`` so a client can trust it
    (``SSL_CERT_FILE``, ``ssl.create_default_context(cafile=...)``).
    """
    tmpdir = Path(tmpdir)
    tmpdir.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    ca_path = tmpdir / "fake-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    return server_ctx, ca_path
