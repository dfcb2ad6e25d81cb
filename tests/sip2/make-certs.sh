#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Make a throw-away PKI for the TLS tests in directory $1:
#   ca.pem        the CA the client trusts
#   server.pem/.key  for localhost and 127.0.0.1, signed by ca
#   client.pem/.key  a client certificate signed by ca
#   other-ca.pem  a CA that signed nothing here (the "wrong CA")
set -e
d=$1
cd "$d"
q() { "$@" >/dev/null 2>&1; }
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=circd-test-ca -keyout ca.key -out ca.pem
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=other-ca -keyout other-ca.key -out other-ca.pem
for who in server client; do
	q openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj /CN=$who -keyout $who.key -out $who.csr
done
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
printf 'extendedKeyUsage=clientAuth\n' > client.ext
for who in server client; do
	q openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-extfile $who.ext -out $who.pem
done
chmod 600 *.key
