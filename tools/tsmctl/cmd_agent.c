/*
 * tsmctl agent init|enrol|revoke: the agent CA of tsmd.
 *
 *   tsmctl agent init --ca-dir DIR [--server-name NAME] [--key ed25519|p256]
 *   tsmctl agent enrol --id ID --ca-dir DIR --out DIR [--key ed25519|p256]
 *   tsmctl agent revoke --id ID --ca-dir DIR
 *
 * The CA directory holds ca.key / ca.crt (the agents' CA),
 * server.key / server.crt (tsmd's TLS certificate, issued by the same CA
 * for NAME, 127.0.0.1 and ::1), crl.pem (the revocation list tsmd
 * reloads when it changes), serial, and agents/ID.crt for every enrolled
 * agent. enrol creates the CA first when the directory has none, and
 * writes agent.key, agent.crt and ca.crt into --out: the agent id is the
 * certificate's CN. revoke adds the agent's certificate to crl.pem.
 * Keys are written 0600.
 *
 * Keys are Ed25519 unless --key p256 asks for ECDSA P-256 (for a TLS
 * stack without Ed25519): an agent's with enrol, the CA's and tsmd's with
 * init (enrol creates the CA, of the agent's key type, when there is
 * none). tsmd keeps every
 * connected agent's parsed certificate for the connection's life: with
 * OpenSSL 3 a P-256 public key brings its own copy of the curve (about
 * 1.5 KB more per connection than an Ed25519 key). On the agent's side,
 * wolfSSL builds a 1.5 MB table for P-256 points it verifies with
 * (docs/agent.md): an Ed25519 CA and server key keep tsm-agent's peak
 * memory at its resting level.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tsmctl.h"

#define DAYS_CA		3650
#define DAYS_LEAF	825
#define ID_MAX		64

struct agent_opts {
	const char	*cmd, *id, *ca_dir, *out, *server_name, *key;
};

static int
usage(void)
{
	fprintf(stderr, "usage: tsmctl agent init --ca-dir DIR "
	    "[--server-name NAME] [--key ed25519|p256]\n"
	    "       tsmctl agent enrol --id ID --ca-dir DIR --out DIR "
	    "[--key ed25519|p256]\n"
	    "       tsmctl agent revoke --id ID --ca-dir DIR\n");
	return 2;
}

static int
id_ok(const char *id)
{
	size_t i, n = strlen(id);

	if (n == 0 || n > ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
		    (id[i] >= 'A' && id[i] <= 'Z') ||
		    (id[i] >= '0' && id[i] <= '9') || id[i] == '-' ||
		    id[i] == '_' || id[i] == '.'))
			return 0;
	return 1;
}

static void
path(char *out, size_t n, const char *dir, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static EVP_PKEY *
new_key(void)
{
	return EVP_EC_gen("P-256");
}

/* A key of type "ed25519" (the default) or "p256". */
static EVP_PKEY *
new_key_of(const char *type)
{
	if (strcmp(type, "p256") == 0)
		return new_key();
	return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
}

static int
write_key(const char *file, EVP_PKEY *k)
{
	FILE *f;
	int fd, ok;

	if ((fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		return -1;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return -1;
	}
	ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int
write_cert(const char *file, X509 *c)
{
	FILE *f;
	int ok;

	if ((f = fopen(file, "w")) == NULL)
		return -1;
	ok = PEM_write_X509(f, c) == 1;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static EVP_PKEY *
read_key(const char *file)
{
	EVP_PKEY *k;
	FILE *f;

	if ((f = fopen(file, "r")) == NULL)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

static X509 *
read_cert(const char *file)
{
	X509 *c;
	FILE *f;

	if ((f = fopen(file, "r")) == NULL)
		return NULL;
	c = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return c;
}

static int
add_ext(X509 *c, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx(&ctx, issuer, c, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(c, e, -1) == 1;
	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

/* A random positive 64-bit serial. */
static int
set_serial(X509 *c, uint64_t *out)
{
	uint8_t b[8];
	uint64_t v = 0;
	size_t i;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	b[0] &= 0x7F;
	for (i = 0; i < 8; i++)
		v = v << 8 | b[i];
	if (v == 0)
		v = 1;
	*out = v;
	return ASN1_INTEGER_set_uint64(X509_get_serialNumber(c), v) == 1 ?
	    0 : -1;
}

/* A certificate for key, with subject CN cn, signed by (ica, ikey) or
 * self-signed; exts are (nid, value) pairs ending with 0. */
static X509 *
make_cert(const char *cn, EVP_PKEY *key, X509 *ica, EVP_PKEY *ikey,
    int days, const int *nids, const char *const *vals)
{
	X509 *c;
	X509_NAME *n;
	uint64_t serial;
	size_t i;

	if ((c = X509_new()) == NULL)
		return NULL;
	n = X509_NAME_new();
	if (n == NULL || X509_set_version(c, 2) != 1 ||
	    set_serial(c, &serial) != 0 ||
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_subject_name(c, n) != 1 ||
	    X509_set_issuer_name(c, ica != NULL ?
	    X509_get_subject_name(ica) : n) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(c), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(c), 86400L * days) == NULL ||
	    X509_set_pubkey(c, key) != 1)
		goto fail;
	for (i = 0; nids[i] != 0; i++)
		if (add_ext(c, ica != NULL ? ica : c, nids[i], vals[i]) != 0)
			goto fail;
	if (ikey == NULL)
		ikey = key;
	/* Ed25519 signs the message itself: no digest. */
	if (X509_sign(c, ikey, EVP_PKEY_get_id(ikey) == EVP_PKEY_ED25519 ?
	    NULL : EVP_sha256()) == 0)
		goto fail;
	X509_NAME_free(n);
	return c;
 fail:
	X509_NAME_free(n);
	X509_free(c);
	return NULL;
}

static int
write_crl(const char *dir, X509 *ca, EVP_PKEY *cakey, X509 *revoke)
{
	char file[1024], tmp[1040];
	X509_CRL *crl = NULL;
	X509_REVOKED *rv;
	ASN1_TIME *t = NULL;
	FILE *f;
	int ok = 0;

	path(file, sizeof(file), dir, "crl.pem");
	if ((f = fopen(file, "r")) != NULL) {
		crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (crl == NULL && ((crl = X509_CRL_new()) == NULL ||
	    X509_CRL_set_version(crl, 1) != 1 ||
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) != 1))
		goto out;
	if ((t = ASN1_TIME_new()) == NULL ||
	    X509_gmtime_adj(t, 0) == NULL ||
	    X509_CRL_set1_lastUpdate(crl, t) != 1 ||
	    X509_gmtime_adj(t, 86400L * DAYS_CA) == NULL ||
	    X509_CRL_set1_nextUpdate(crl, t) != 1)
		goto out;
	if (revoke != NULL) {
		if ((rv = X509_REVOKED_new()) == NULL)
			goto out;
		if (X509_REVOKED_set_serialNumber(rv,
		    X509_get_serialNumber(revoke)) != 1 ||
		    X509_gmtime_adj(t, 0) == NULL ||
		    X509_REVOKED_set_revocationDate(rv, t) != 1 ||
		    X509_CRL_add0_revoked(crl, rv) != 1) {
			X509_REVOKED_free(rv);
			goto out;
		}
		X509_CRL_sort(crl);
	}
	if (X509_CRL_sign(crl, cakey, EVP_PKEY_get_id(cakey) ==
	    EVP_PKEY_ED25519 ? NULL : EVP_sha256()) == 0)
		goto out;
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	if ((f = fopen(tmp, "w")) == NULL)
		goto out;
	ok = PEM_write_X509_CRL(f, crl) == 1;
	if (fclose(f) != 0 || !ok || rename(tmp, file) != 0)
		ok = 0;
 out:
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return ok ? 0 : -1;
}

static int
load_ca(const char *dir, X509 **ca, EVP_PKEY **key)
{
	char file[1024];

	path(file, sizeof(file), dir, "ca.crt");
	*ca = read_cert(file);
	path(file, sizeof(file), dir, "ca.key");
	*key = read_key(file);
	if (*ca != NULL && *key != NULL)
		return 0;
	X509_free(*ca);
	EVP_PKEY_free(*key);
	*ca = NULL;
	*key = NULL;
	return -1;
}

static int
init_ca(const char *dir, const char *server_name, const char *ktype)
{
	static const int ca_nids[] = { NID_basic_constraints, NID_key_usage,
	    NID_subject_key_identifier, 0 };
	static const char *const ca_vals[] = { "critical,CA:TRUE,pathlen:0",
	    "critical,keyCertSign,cRLSign", "hash" };
	static const int srv_nids[] = { NID_basic_constraints, NID_key_usage,
	    NID_ext_key_usage, NID_subject_alt_name, 0 };
	char file[1024], san[400];
	const char *srv_vals[4] = { "critical,CA:FALSE",
	    "critical,digitalSignature", "serverAuth", san };
	EVP_PKEY *cak = NULL, *sk = NULL;
	X509 *ca = NULL, *sc = NULL;
	int r = 1;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return 1;
	snprintf(san, sizeof(san), "DNS:%s,IP:127.0.0.1,IP:::1",
	    server_name);
	if ((cak = new_key_of(ktype)) == NULL ||
	    (sk = new_key_of(ktype)) == NULL ||
	    (ca = make_cert("tsm agent CA", cak, NULL, NULL, DAYS_CA, ca_nids,
	    ca_vals)) == NULL ||
	    (sc = make_cert(server_name, sk, ca, cak, DAYS_LEAF, srv_nids,
	    srv_vals)) == NULL)
		goto out;
	path(file, sizeof(file), dir, "ca.key");
	if (write_key(file, cak) != 0)
		goto out;
	path(file, sizeof(file), dir, "ca.crt");
	if (write_cert(file, ca) != 0)
		goto out;
	path(file, sizeof(file), dir, "server.key");
	if (write_key(file, sk) != 0)
		goto out;
	path(file, sizeof(file), dir, "server.crt");
	if (write_cert(file, sc) != 0 || write_crl(dir, ca, cak, NULL) != 0)
		goto out;
	path(file, sizeof(file), dir, "agents");
	if (mkdir(file, 0700) != 0 && errno != EEXIST)
		goto out;
	r = 0;
 out:
	EVP_PKEY_free(cak);
	EVP_PKEY_free(sk);
	X509_free(ca);
	X509_free(sc);
	if (r != 0)
		fprintf(stderr, "tsmctl: cannot create the CA in %s\n", dir);
	return r;
}

static int
agent_enrol(const struct agent_opts *o)
{
	static const int nids[] = { NID_basic_constraints, NID_key_usage,
	    NID_ext_key_usage, 0 };
	static const char *const vals[] = { "critical,CA:FALSE",
	    "critical,digitalSignature", "clientAuth" };
	char file[1024], name[ID_MAX + 8];
	EVP_PKEY *cak = NULL, *k = NULL;
	X509 *ca = NULL, *c = NULL;
	int r = 1;

	if (load_ca(o->ca_dir, &ca, &cak) != 0 &&
	    (init_ca(o->ca_dir, o->server_name, o->key) != 0 ||
	    load_ca(o->ca_dir, &ca, &cak) != 0))
		return 1;
	if (mkdir(o->out, 0700) != 0 && errno != EEXIST)
		goto out;
	if ((k = new_key_of(o->key)) == NULL || (c = make_cert(o->id, k,
	    ca, cak, DAYS_LEAF, nids, vals)) == NULL)
		goto out;
	path(file, sizeof(file), o->out, "agent.key");
	if (write_key(file, k) != 0)
		goto out;
	path(file, sizeof(file), o->out, "agent.crt");
	if (write_cert(file, c) != 0)
		goto out;
	path(file, sizeof(file), o->out, "ca.crt");
	if (write_cert(file, ca) != 0)
		goto out;
	snprintf(name, sizeof(name), "agents/%s.crt", o->id);
	path(file, sizeof(file), o->ca_dir, name);
	if (write_cert(file, c) != 0)
		goto out;
	printf("enrolled agent %s: %s/agent.crt\n", o->id, o->out);
	r = 0;
 out:
	if (r != 0)
		fprintf(stderr, "tsmctl: cannot enrol %s\n", o->id);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(k);
	X509_free(ca);
	X509_free(c);
	return r;
}

static int
agent_revoke(const struct agent_opts *o)
{
	char file[1024], name[ID_MAX + 8];
	EVP_PKEY *cak = NULL;
	X509 *ca = NULL, *c;
	int r;

	snprintf(name, sizeof(name), "agents/%s.crt", o->id);
	path(file, sizeof(file), o->ca_dir, name);
	if ((c = read_cert(file)) == NULL) {
		fprintf(stderr, "tsmctl: no agent %s in %s\n", o->id,
		    o->ca_dir);
		return 1;
	}
	if (load_ca(o->ca_dir, &ca, &cak) != 0) {
		X509_free(c);
		fprintf(stderr, "tsmctl: no CA in %s\n", o->ca_dir);
		return 1;
	}
	r = write_crl(o->ca_dir, ca, cak, c);
	if (r == 0)
		printf("revoked agent %s\n", o->id);
	else
		fprintf(stderr, "tsmctl: cannot write the CRL\n");
	X509_free(c);
	X509_free(ca);
	EVP_PKEY_free(cak);
	return r == 0 ? 0 : 1;
}

static int
parse(int argc, char **argv, struct agent_opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->server_name = "localhost";
	o->key = "ed25519";
	if (argc < 1)
		return -1;
	o->cmd = argv[0];
	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--id") == 0)
			o->id = argv[i + 1];
		else if (strcmp(argv[i], "--ca-dir") == 0)
			o->ca_dir = argv[i + 1];
		else if (strcmp(argv[i], "--out") == 0)
			o->out = argv[i + 1];
		else if (strcmp(argv[i], "--server-name") == 0)
			o->server_name = argv[i + 1];
		else if (strcmp(argv[i], "--key") == 0)
			o->key = argv[i + 1];
		else
			return -1;
	}
	if (i != argc || o->ca_dir == NULL || !id_ok(o->server_name) ||
	    (strcmp(o->key, "ed25519") != 0 && strcmp(o->key, "p256") != 0))
		return -1;
	return 0;
}

int
tsmctl_agent(int argc, char **argv)
{
	struct agent_opts o;

	if (parse(argc, argv, &o) != 0)
		return usage();
	if (strcmp(o.cmd, "init") == 0) {
		X509 *ca;
		EVP_PKEY *k;

		if (load_ca(o.ca_dir, &ca, &k) == 0) {
			X509_free(ca);
			EVP_PKEY_free(k);
			fprintf(stderr, "tsmctl: %s already holds a CA\n",
			    o.ca_dir);
			return 1;
		}
		return init_ca(o.ca_dir, o.server_name, o.key);
	}
	if (o.id == NULL || !id_ok(o.id)) {
		fprintf(stderr, "tsmctl: --id: 1 to 64 of A-Z a-z 0-9 - _ .\n");
		return 2;
	}
	if (strcmp(o.cmd, "enrol") == 0 && o.out != NULL)
		return agent_enrol(&o);
	if (strcmp(o.cmd, "revoke") == 0)
		return agent_revoke(&o);
	return usage();
}
