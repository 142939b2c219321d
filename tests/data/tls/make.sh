#!/bin/sh
# Regenerates the test-only TLS files (tests of the Redis client over TLS):
# a CA, a server certificate it signed for 127.0.0.1/localhost, and a
# second CA that signed nothing here (a client trusting only it must refuse
# the server). The private keys are for tests on loopback only.
set -eu
cd "$(dirname "$0")"
days=36500
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days $days -subj "/CN=Switchboard test CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days $days \
  -extfile server.ext 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days $days \
  -subj "/CN=Some other CA" 2>/dev/null
rm -f server.csr server.ext ca.srl ca.key other-ca.key
