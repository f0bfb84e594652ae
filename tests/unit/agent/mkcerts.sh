#!/bin/sh
# Test PKI for the agent tests, in DIR: the agent CA (ca.crt) with the
# server's certificate (server.*, for localhost, 127.0.0.1 and ::1) and an
# agent's (agent.*, CN agent-0001, the layout `tsmctl agent enrol`
# writes), and a second, unrelated CA with a server certificate of its own
# (other-server.*) for the wrong-CA test, and a certificate from the right
# CA for another host (wrong-host.*). EC P-256: fast to make.
set -eu
d=$1
mkdir -p "$d"
cd "$d"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() {	# name CN
	key "$1.key"
	openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days 2 \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign -out "$1.crt"
}
leaf() {	# name CN ca ext
	key "$1.key"
	openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
	printf '%s\n' "$4" > "$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" \
	    -CAcreateserial -days 2 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
}
ca ca "Test Agent CA"
ca other-ca "Some Other CA"
srv='subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
extendedKeyUsage=serverAuth'
leaf server localhost ca "$srv"
leaf other-server localhost other-ca "$srv"
leaf wrong-host elsewhere.example ca 'subjectAltName=DNS:elsewhere.example,IP:127.0.0.9
extendedKeyUsage=serverAuth'
leaf agent agent-0001 ca 'extendedKeyUsage=clientAuth'
