/*
 * tsmctl keys ...: the key ceremony, through tsm-keyd.
 *
 *   tsmctl keys [-s SOCKET] list
 *   tsmctl keys [-s SOCKET] generate LABEL VERSION [key options]
 *   tsmctl keys [-s SOCKET] import LABEL VERSION -n 2|3 [-f F1,F2[,F3]]
 *              [key options]
 *   tsmctl keys [-s SOCKET] import-wrapped LABEL VERSION -T TK:VER
 *              -b BLOBHEX -k KCV [key options]
 *   tsmctl keys [-s SOCKET] rotate LABEL
 *   tsmctl keys [-s SOCKET] import-pair LABEL VERSION -f KEY.pem
 *   tsmctl keys [-s SOCKET] pubkey LABEL VERSION
 * key options: -a des3|aes|hmac|rsa|ec  -l LEN  -m none|emv|visa2|kdf3
 *              -r master|enc|mac|dek|transport|hmac|dap|receipt
 * LEN is in bytes for secret keys, in bits for key pairs (rsa 1024..4096,
 * ec 256: P-256); key pairs are generated with -r dap -m none.
 *
 * import-pair takes a DAP / token signing key (RSA or EC P-256 private
 * key, PEM) into the HSM, sensitive and not extractable; the DER copy is
 * wiped after, and only the public key's fingerprint is printed. pubkey
 * prints the public key (PEM SubjectPublicKeyInfo).
 *
 * Dual control: each custodian enters a component and its KCV separately
 * (from the terminal without echo, or one file each: component hex on the
 * first line, KCV hex on the second). Each KCV is checked here and again in
 * keyd; the combined key's KCV is shown. Components are wiped after use and
 * never printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "gp/buf.h"
#include "gp/kdf.h"
#include "keys.h"
#include "tsmctl.h"

struct kopt {
	const char	*sock;
	int		 alg, role, method, ncomp;
	size_t		 len;
	const char	*files, *tk, *blob, *kcv;
};

static const char *const roles[] = { "master", "enc", "mac", "dek",
    "transport", "hmac", "dap", "receipt" };
static const char *const algs[] = { "?", "des3", "aes", "hmac", "rsa", "ec" };
static const char *const methods[] = { "none", "emv", "visa2", "kdf3" };

static int
pick(const char *s, const char *const *tab, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(s, tab[i]) == 0)
			return i;
	return -1;
}

static int
usage(void)
{
	fprintf(stderr, "usage: tsmctl keys [-s SOCKET] list | generate LABEL "
	    "VER | import LABEL VER -n 2|3 [-f F1,F2] | import-wrapped LABEL "
	    "VER -T TK:VER -b HEX -k KCV | rotate LABEL | import-pair LABEL "
	    "VER -f KEY.pem | pubkey LABEL VER\n"
	    "  key options: -a des3|aes|hmac|rsa|ec -l LEN -m none|emv|visa2|"
	    "kdf3 -r master|enc|mac|dek|transport|hmac|dap|receipt\n");
	return 2;
}

static int
opts(int argc, char **argv, struct kopt *o)
{
	int ch;

	while ((ch = getopt(argc, argv, "s:a:l:m:r:n:f:T:b:k:")) != -1) {
		switch (ch) {
		case 's': o->sock = optarg; break;
		case 'a': o->alg = pick(optarg, algs, 6); break;
		case 'l': o->len = (size_t)atoi(optarg); break;
		case 'm': o->method = pick(optarg, methods, 4); break;
		case 'r': o->role = pick(optarg, roles, 8); break;
		case 'n': o->ncomp = atoi(optarg); break;
		case 'f': o->files = optarg; break;
		case 'T': o->tk = optarg; break;
		case 'b': o->blob = optarg; break;
		case 'k': o->kcv = optarg; break;
		default: return -1;
		}
	}
	return o->alg < 1 || o->method < 0 || o->role < 0 ? -1 : 0;
}

/* One line, without echo when it comes from a terminal. */
static int
read_secret(FILE *in, const char *prompt, char *buf, size_t cap)
{
	struct termios t, quiet;
	int tty = isatty(fileno(in)), r = 0;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		tcgetattr(fileno(in), &t);
		quiet = t;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(in), TCSAFLUSH, &quiet);
	}
	if (fgets(buf, (int)cap, in) == NULL)
		r = -1;
	if (tty) {
		tcsetattr(fileno(in), TCSAFLUSH, &t);
		fprintf(stderr, "\n");
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	return r;
}

/* Component i from its custodian: value and KCV, the KCV checked here. */
static int
component(const struct kopt *o, int i, const char *file, uint8_t *v,
    size_t *n, uint8_t kcv[3])
{
	char line[160], prompt[64];
	uint8_t mine[3];
	size_t kn;
	FILE *in = stdin;
	int r = -1;

	if (file != NULL && (in = fopen(file, "r")) == NULL) {
		fprintf(stderr, "tsmctl keys: cannot read %s\n", file);
		return -1;
	}
	snprintf(prompt, sizeof(prompt), "custodian %d, component: ", i + 1);
	if (read_secret(in, prompt, line, sizeof(line)) != 0 ||
	    gp_hex_decode(line, v, GP_KEY_MAX, n) != 0) {
		fprintf(stderr, "component %d: not a hex key\n", i + 1);
		goto out;
	}
	gp_wipe(line, sizeof(line));
	snprintf(prompt, sizeof(prompt), "custodian %d, KCV: ", i + 1);
	if (read_secret(in, prompt, line, sizeof(line)) != 0 ||
	    gp_hex_decode(line, kcv, 3, &kn) != 0 || kn != 3) {
		fprintf(stderr, "component %d: KCV must be 3 hex bytes\n",
		    i + 1);
		goto out;
	}
	if (keys_kcv(o->alg, v, *n, mine) != 0 ||
	    gp_ct_memcmp(mine, kcv, 3) != 0) {
		fprintf(stderr, "component %d: KCV does not match: refused\n",
		    i + 1);
		goto out;
	}
	fprintf(stderr, "component %d: KCV %02X%02X%02X ok\n", i + 1, kcv[0],
	    kcv[1], kcv[2]);
	r = 0;
out:
	gp_wipe(line, sizeof(line));
	if (in != stdin)
		fclose(in);
	return r;
}

static int
do_import(struct keys_client *c, const struct kopt *o, const char *label,
    uint8_t ver)
{
	uint8_t v[3][GP_KEY_MAX], kcv[3];
	struct keys_component comp[3];
	char files[512], *f[3] = { NULL, NULL, NULL }, *save = NULL;
	int i, r = -1;

	if (o->ncomp < 2 || o->ncomp > 3)
		return usage();
	if (o->files != NULL) {
		snprintf(files, sizeof(files), "%s", o->files);
		for (i = 0; i < o->ncomp; i++)
			f[i] = strtok_r(i == 0 ? files : NULL, ",", &save);
		if (f[o->ncomp - 1] == NULL)
			return usage();
	}
	for (i = 0; i < o->ncomp; i++) {
		comp[i].value = v[i];
		if (component(o, i, f[i], v[i], &comp[i].len, comp[i].kcv) != 0)
			goto out;
	}
	if ((r = keys_import_components(c, label, ver, o->role, o->method,
	    o->alg, comp, (size_t)o->ncomp, kcv)) != 0) {
		fprintf(stderr, "tsmctl keys: import %s/%u: %s\n", label, ver,
		    keys_strerror(r));
		goto out;
	}
	printf("imported %s/%u: combined KCV %02X%02X%02X\n", label, ver,
	    kcv[0], kcv[1], kcv[2]);
	r = 0;
out:
	gp_wipe(v, sizeof(v));
	return r == 0 ? 0 : 1;
}

static int
do_wrapped(struct keys_client *c, const struct kopt *o, const char *label,
    uint8_t ver)
{
	uint8_t blob[64], kcv[3], out[3];
	char tk[KEYS_LABEL_MAX + 1], *colon;
	size_t bn, kn;
	int r;

	if (o->tk == NULL || o->blob == NULL || o->kcv == NULL ||
	    gp_hex_decode(o->blob, blob, sizeof(blob), &bn) != 0 ||
	    gp_hex_decode(o->kcv, kcv, 3, &kn) != 0 || kn != 3)
		return usage();
	snprintf(tk, sizeof(tk), "%s", o->tk);
	if ((colon = strchr(tk, ':')) == NULL)
		return usage();
	*colon = '\0';
	if ((r = keys_import_wrapped(c, label, ver, o->role, o->method, o->alg,
	    o->len, tk, (uint8_t)atoi(colon + 1), blob, bn, kcv, out)) != 0) {
		fprintf(stderr, "tsmctl keys: import %s/%u: %s\n", label, ver,
		    keys_strerror(r));
		return 1;
	}
	printf("imported %s/%u: KCV %02X%02X%02X\n", label, ver, out[0],
	    out[1], out[2]);
	return 0;
}

static int
do_list(struct keys_client *c)
{
	struct keys_info k[KEYS_LIST_MAX];
	size_t n, i;
	int r;

	if ((r = keys_list(c, k, KEYS_LIST_MAX, &n)) != 0) {
		fprintf(stderr, "tsmctl keys: list: %s\n", keys_strerror(r));
		return 1;
	}
	printf("%-24s %4s %-9s %-6s %-5s %4s %s\n", "LABEL", "VER", "ROLE",
	    "METHOD", "ALG", "LEN", "KCV");
	for (i = 0; i < n; i++)
		printf("%-24s %4u %-9s %-6s %-5s %4u %02X%02X%02X\n",
		    k[i].label, k[i].version, k[i].role <= KEYS_ROLE_MAX ?
		    roles[k[i].role] : "?", k[i].method <= 3 ?
		    methods[k[i].method] : "?", k[i].alg <= 5 ?
		    algs[k[i].alg] : "?", k[i].len, k[i].kcv[0], k[i].kcv[1],
		    k[i].kcv[2]);
	return 0;
}

static int
do_import_pair(struct keys_client *c, const struct kopt *o,
    const char *label, uint8_t ver)
{
	unsigned char *der = NULL;
	uint8_t fpr[3];
	EVP_PKEY *pk;
	FILE *f;
	int n, r;

	if (o->files == NULL)
		return usage();
	if ((f = fopen(o->files, "r")) == NULL) {
		fprintf(stderr, "tsmctl keys: cannot read %s\n", o->files);
		return 1;
	}
	pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (pk == NULL || (n = i2d_PrivateKey(pk, &der)) <= 0) {
		fprintf(stderr, "tsmctl keys: %s: not a PEM private key\n",
		    o->files);
		EVP_PKEY_free(pk);
		return 1;
	}
	EVP_PKEY_free(pk);
	r = keys_import_pair(c, label, ver, der, (size_t)n, fpr);
	OPENSSL_clear_free(der, (size_t)n);
	if (r != 0) {
		fprintf(stderr, "tsmctl keys: import-pair %s/%u: %s\n", label,
		    ver, keys_strerror(r));
		return 1;
	}
	printf("imported %s/%u: fingerprint %02X%02X%02X\n", label, ver,
	    fpr[0], fpr[1], fpr[2]);
	return 0;
}

static int
do_pubkey(struct keys_client *c, const char *label, uint8_t ver)
{
	uint8_t der[1200];
	const unsigned char *p = der;
	EVP_PKEY *pk;
	size_t n = 0;
	int r;

	if ((r = keys_pubkey(c, label, ver, der, sizeof(der), &n)) != 0) {
		fprintf(stderr, "tsmctl keys: pubkey %s/%u: %s\n", label, ver,
		    keys_strerror(r));
		return 1;
	}
	if ((pk = d2i_PUBKEY(NULL, &p, (long)n)) == NULL ||
	    PEM_write_PUBKEY(stdout, pk) != 1) {
		fprintf(stderr, "tsmctl keys: pubkey %s/%u: bad answer\n",
		    label, ver);
		EVP_PKEY_free(pk);
		return 1;
	}
	EVP_PKEY_free(pk);
	return 0;
}

/* Version N+1 of the highest version of label, same kind of key. */
static int
do_rotate(struct keys_client *c, const char *label)
{
	struct keys_info k[KEYS_LIST_MAX], *top = NULL;
	uint8_t kcv[3];
	size_t n, i;
	int r;

	if ((r = keys_list(c, k, KEYS_LIST_MAX, &n)) != 0)
		goto fail;
	for (i = 0; i < n; i++)
		if (strcmp(k[i].label, label) == 0 &&
		    k[i].role == KEYS_ROLE_MASTER &&
		    (top == NULL || k[i].version > top->version))
			top = &k[i];
	if (top == NULL || top->version == 255) {
		fprintf(stderr, "tsmctl keys: rotate: no master %s to "
		    "rotate\n", label);
		return 1;
	}
	if ((r = keys_generate(c, label, (uint8_t)(top->version + 1),
	    KEYS_ROLE_MASTER, top->method, top->alg, top->len, kcv)) != 0)
		goto fail;
	printf("generated %s/%u: KCV %02X%02X%02X\n", label,
	    top->version + 1, kcv[0], kcv[1], kcv[2]);
	return 0;
fail:
	fprintf(stderr, "tsmctl keys: rotate %s: %s\n", label,
	    keys_strerror(r));
	return 1;
}

int
tsmctl_keys(int argc, char **argv)
{
	struct kopt o = { NULL, KEYS_ALG_DES3, KEYS_ROLE_MASTER, GP_DIV_EMV,
	    0, 16, NULL, NULL, NULL, NULL };
	struct keys_client c;
	const char *cmd, *label = NULL;
	uint8_t kcv[3], ver = 0;
	int r, rc;

	if ((o.sock = getenv("TSM_KEYD_SOCKET")) == NULL)
		o.sock = "/run/tsm/keyd.sock";
	optind = 1;
	if (argc < 1)
		return usage();
	cmd = argv[0];	/* stays as getopt's argv[0] after the shifts */
	if (strcmp(cmd, "list") != 0) {
		if (argc < 2)
			return usage();
		label = argv[1];
		argc--;
		argv++;
		if (strcmp(cmd, "rotate") != 0) {
			if (argc < 2)
				return usage();
			ver = (uint8_t)atoi(argv[1]);
			argc--;
			argv++;
		}
	}
	if (opts(argc, argv, &o) != 0)
		return usage();
	keys_init(&c, o.sock, 0);
	if (strcmp(cmd, "list") == 0)
		rc = do_list(&c);
	else if (strcmp(cmd, "rotate") == 0)
		rc = do_rotate(&c, label);
	else if (strcmp(cmd, "import") == 0)
		rc = do_import(&c, &o, label, ver);
	else if (strcmp(cmd, "import-wrapped") == 0)
		rc = do_wrapped(&c, &o, label, ver);
	else if (strcmp(cmd, "import-pair") == 0)
		rc = do_import_pair(&c, &o, label, ver);
	else if (strcmp(cmd, "pubkey") == 0)
		rc = do_pubkey(&c, label, ver);
	else if (strcmp(cmd, "generate") == 0) {
		/* key pairs: -l in bits */
		if (o.alg == KEYS_ALG_RSA)
			o.len = (size_t)KEYS_RSA_KLEN(o.len);
		else if (o.alg == KEYS_ALG_EC)
			o.len /= 8;
		if ((r = keys_generate(&c, label, ver, o.role, o.method, o.alg,
		    o.len, kcv)) != 0) {
			fprintf(stderr, "tsmctl keys: generate %s/%u: %s\n",
			    label, ver, keys_strerror(r));
			rc = 1;
		} else {
			printf("generated %s/%u: %s %02X%02X%02X\n", label,
			    ver, o.role == KEYS_ROLE_DAP ? "fingerprint" : "KCV",
			    kcv[0], kcv[1], kcv[2]);
			rc = 0;
		}
	} else
		rc = usage();
	keys_close(&c);
	return rc;
}
