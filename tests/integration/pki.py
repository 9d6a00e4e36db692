# SPDX-License-Identifier: LGPL-2.1-or-later
"""Throwaway x509 certificates for TLS tests, made with GnuTLS's certtool the way libvirt's
PKI guide makes them: a CA, server certificates naming the addresses they serve, client
certificates with a distinguished name. Every file goes under a test's own directory."""
import os
import subprocess


def _certtool(*args, template=None, cwd):
    cmd = ["certtool", *args]
    if template is not None:
        path = os.path.join(cwd, "template.info")
        with open(path, "w") as f:
            f.write(template)
        cmd += ["--template", path]
    subprocess.run(cmd, check=True, capture_output=True, cwd=cwd, timeout=60)


class CA:
    def __init__(self, root, cn="Domus Test CA"):
        self.dir = os.path.join(root, cn.replace(" ", "_"))
        os.makedirs(self.dir, exist_ok=True)
        self.key = os.path.join(self.dir, "cakey.pem")
        self.cert = os.path.join(self.dir, "cacert.pem")
        _certtool("--generate-privkey", "--outfile", self.key, cwd=self.dir)
        _certtool("--generate-self-signed", "--load-privkey", self.key, "--outfile", self.cert,
                  template=f"cn = {cn}\nca\ncert_signing_key\nexpiration_days = 7\n",
                  cwd=self.dir)

    def issue(self, out_dir, kind, cn, org="Domus Test", country="GB", ips=()):
        """Writes cacert.pem and KIND{cert,key}.pem (kind: server or client) into OUT_DIR, as
        libvirt's pkipath layout has them. Returns OUT_DIR."""
        os.makedirs(out_dir, exist_ok=True)
        key = os.path.join(out_dir, f"{kind}key.pem")
        cert = os.path.join(out_dir, f"{kind}cert.pem")
        _certtool("--generate-privkey", "--outfile", key, cwd=out_dir)
        template = f"country = {country}\norganization = {org}\ncn = {cn}\n"
        template += "".join(f"ip_address = {ip}\n" for ip in ips)
        template += f"tls_www_{kind}\nencryption_key\nsigning_key\nexpiration_days = 7\n"
        _certtool("--generate-certificate", "--load-privkey", key, "--load-ca-certificate",
                  self.cert, "--load-ca-privkey", self.key, "--outfile", cert,
                  template=template, cwd=out_dir)
        with open(self.cert) as src, open(os.path.join(out_dir, "cacert.pem"), "w") as dst:
            dst.write(src.read())
        os.chmod(key, 0o600)
        return out_dir
