"""Certificates for the TLS tests, made at test time with the `openssl`
command into a directory: a test CA, and ECDSA P-256 server certificates
it signs (one for 127.0.0.1 and localhost, one for another name, and an
expired one), so no key is ever checked in.

    certs = TestCertificates(directory)
    certs.ca            # the CA certificate clients trust
    certs.server        # (cert, key) for 127.0.0.1 / localhost
    certs.wrong_host    # (cert, key) for other.invalid only
    certs.expired       # (cert, key) for 127.0.0.1, valid in 2020 only
    certs.issue("renewed", "DNS:localhost,IP:127.0.0.1")  # another (cert, key)
    certs.issue("device-1", "DNS:device-1", usage="clientAuth")  # a client certificate
    certs.self_signed_client()  # a client certificate the CA did not sign
    certs.client_context()  # an ssl.SSLContext trusting the CA
"""
import os
import ssl
import subprocess


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class TestCertificates:
    def __init__(self, directory):
        self.directory = directory
        d = directory
        _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key", cwd=d)
        _openssl("req", "-x509", "-new", "-key", "ca.key", "-sha256", "-days", "2", "-subj", "/CN=Switchboard test CA",
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                 "-out", "ca.pem", cwd=d)
        self.ca = os.path.join(d, "ca.pem")
        self.server = self.issue("server", "DNS:localhost,IP:127.0.0.1")
        self.wrong_host = self.issue("wrong_host", "DNS:other.invalid")
        self.expired = self.issue("expired", "DNS:localhost,IP:127.0.0.1", expired=True)

    def issue(self, name, sans, expired=False, usage="serverAuth"):
        """A new key and a certificate the CA signs for sans: (cert, key);
        usage "clientAuth" for a client certificate (mTLS), subject CN=name."""
        d = self.directory
        key, csr, cert, ext = name + ".key", name + ".csr", name + ".pem", name + ".ext"
        _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key, cwd=d)
        _openssl("req", "-new", "-key", key, "-subj", "/CN=" + name, "-out", csr, cwd=d)
        with open(os.path.join(d, ext), "w") as f:
            f.write("subjectAltName=%s\nextendedKeyUsage=%s\nbasicConstraints=CA:FALSE\n" % (sans, usage))
        if expired:
            # `openssl ca` is the one command of OpenSSL 3.0 that takes explicit dates.
            db = os.path.join(d, "ca.db")
            open(db, "w").close()
            with open(os.path.join(d, "ca.cnf"), "w") as f:
                f.write("[ca]\ndefault_ca=test\n[test]\ndatabase=%s\nnew_certs_dir=%s\nserial=%s\n"
                        "default_md=sha256\npolicy=any\ncopy_extensions=copy\n[any]\ncommonName=supplied\n"
                        % (db, d, os.path.join(d, "ca.serial")))
            with open(os.path.join(d, "ca.serial"), "w") as f:
                f.write("1000\n")
            _openssl("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", csr,
                     "-startdate", "20200101000000Z", "-enddate", "20200201000000Z", "-extfile", ext,
                     "-notext", "-out", cert, cwd=d)
        else:
            _openssl("x509", "-req", "-in", csr, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                     "-days", "2", "-sha256", "-extfile", ext, "-out", cert, cwd=d)
        return os.path.join(d, cert), os.path.join(d, key)

    def self_signed_client(self):
        d = self.directory
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", "stranger.key", "-out", "stranger.pem", "-days", "2", "-subj", "/CN=stranger",
                 "-addext", "extendedKeyUsage=clientAuth", cwd=d)
        return os.path.join(d, "stranger.pem"), os.path.join(d, "stranger.key")

    def client_context(self, minimum=None, maximum=None):
        """A client's context trusting the test CA (hostname checked),
        optionally pinned to TLS versions (ssl.TLSVersion)."""
        context = ssl.create_default_context(cafile=self.ca)
        if minimum is not None:
            context.minimum_version = minimum
        if maximum is not None:
            context.maximum_version = maximum
        return context
