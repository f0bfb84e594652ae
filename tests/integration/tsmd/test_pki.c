/*
 * tsmctl agent init / enrol key types: Ed25519 by default for the CA,
 * tsmd's server key and agents; --key p256 on init for the CA and server,
 * on enrol for the agent, and for the CA enrol creates when the directory
 * has none. Every certificate issued verifies against the CA it names,
 * and the CRL is signed by the CA's key, whatever its type.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static char dir[64];

static void
tsmctl(const char *args)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "%s agent %s >/dev/null", TSMCTL_PATH,
	    args);
	assert_int_equal(system(cmd), 0);
}

static int
key_type(const char *sub, const char *file)
{
	char path[256];
	EVP_PKEY *k;
	FILE *f;
	int t;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, file);
	assert_non_null(f = fopen(path, "r"));
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(k);
	t = EVP_PKEY_get_id(k);
	EVP_PKEY_free(k);
	return t;
}

static X509 *
cert(const char *sub, const char *file)
{
	char path[256];
	X509 *x;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, file);
	assert_non_null(f = fopen(path, "r"));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

/* leaf signed by ca's key, and the CRL too. */
static void
assert_issued(const char *ca_sub, const char *leaf_sub, const char *leaf)
{
	X509 *ca = cert(ca_sub, "ca.crt"), *x = cert(leaf_sub, leaf);
	X509_CRL *crl;
	char path[256];
	FILE *f;

	assert_int_equal(X509_verify(x, X509_get0_pubkey(ca)), 1);
	snprintf(path, sizeof(path), "%s/%s/crl.pem", dir, ca_sub);
	assert_non_null(f = fopen(path, "r"));
	crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(crl);
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ca)), 1);
	X509_CRL_free(crl);
	X509_free(x);
	X509_free(ca);
}

static void
test_defaults(void **st)
{
	char a[256];

	(void)st;
	snprintf(a, sizeof(a), "init --ca-dir %s/d1", dir);
	tsmctl(a);
	snprintf(a, sizeof(a), "enrol --id k1 --ca-dir %s/d1 --out %s/k1",
	    dir, dir);
	tsmctl(a);
	assert_int_equal(key_type("d1", "ca.key"), EVP_PKEY_ED25519);
	assert_int_equal(key_type("d1", "server.key"), EVP_PKEY_ED25519);
	assert_int_equal(key_type("k1", "agent.key"), EVP_PKEY_ED25519);
	assert_issued("d1", "d1", "server.crt");
	assert_issued("d1", "k1", "agent.crt");
}

static void
test_p256(void **st)
{
	char a[256];

	(void)st;
	snprintf(a, sizeof(a), "init --ca-dir %s/d2 --key p256", dir);
	tsmctl(a);
	assert_int_equal(key_type("d2", "ca.key"), EVP_PKEY_EC);
	assert_int_equal(key_type("d2", "server.key"), EVP_PKEY_EC);
	/* An Ed25519 agent under a P-256 CA, and the other way round. */
	snprintf(a, sizeof(a), "enrol --id k2 --ca-dir %s/d2 --out %s/k2",
	    dir, dir);
	tsmctl(a);
	assert_int_equal(key_type("k2", "agent.key"), EVP_PKEY_ED25519);
	assert_issued("d2", "k2", "agent.crt");
	assert_issued("d2", "d2", "server.crt");
	/* enrol --key p256 in an empty directory: a P-256 CA for it. */
	snprintf(a, sizeof(a), "enrol --id k3 --ca-dir %s/d3 --out %s/k3 "
	    "--key p256", dir, dir);
	tsmctl(a);
	assert_int_equal(key_type("d3", "ca.key"), EVP_PKEY_EC);
	assert_int_equal(key_type("k3", "agent.key"), EVP_PKEY_EC);
	assert_issued("d3", "k3", "agent.crt");
}

static void
test_bad_key(void **st)
{
	char cmd[512];

	(void)st;
	snprintf(cmd, sizeof(cmd), "%s agent init --ca-dir %s/d4 --key rsa "
	    "2>/dev/null", TSMCTL_PATH, dir);
	assert_int_not_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/d4/ca.key", dir);
	assert_int_not_equal(access(cmd, F_OK), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_p256),
		cmocka_unit_test(test_bad_key),
	};
	char cmd[96];
	int r;

	snprintf(dir, sizeof(dir), "/tmp/tsm-pki-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		r = 1;
	return r;
}
