/*
 * tsmctl offline-script: a whole GlobalPlatform secure-channel session
 * computed in advance, for a tool that knows no cryptography (pcsc-tools'
 * scriptor) to replay.
 *
 * GP Amendment D's pseudo-random card challenge makes this possible: with
 * SCP03 i = 10/30/70 the card challenge is KDF(K-ENC, 02, seq ‖ SD AID),
 * with SCP02 i = 55 it is the C-MAC of the SD AID under the session C-MAC
 * key of seq. Knowing the keys and the sequence counter the next
 * INITIALIZE UPDATE uses, the host predicts the card's challenge, so the
 * card's whole INITIALIZE UPDATE response (libgp's card role computes it
 * here from the prediction), EXTERNAL AUTHENTICATE and every wrapped
 * command follow. Each wrapped command is unwrapped again by the card role
 * before it is written, so a script that the card would refuse is never
 * written.
 *
 * FILE gets the scriptor input (reset, then one APDU per line as hex bytes
 * separated by spaces); FILE.expect one line per APDU: index, expected SW,
 * what the response data must be ("*" anything, "=HEX" exactly, "~HEX"
 * containing) and what the APDU is. Responses carry no R-MAC at the levels
 * allowed (01, 03), so the expectations are checked on the plain answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "gp/apdu.h"
#include "gp/cap.h"
#include "gp/cmd.h"
#include "gp/err.h"
#include "gp/scp.h"
#include "tsmctl.h"

#define OFF_BLOCK	200	/* LOAD data per command (fits level 03) */

struct offline {
	/* Arguments. */
	int		 proto;
	uint8_t		 i, s, level;
	struct gp_keyset ks;
	uint8_t		 kdd[GP_KDD_LEN];
	uint32_t	 seq;
	uint8_t		 sd[GP_AID_MAX];
	size_t		 sdlen;
	uint8_t		 hc[16];
	int		 have_hc;	/* its length when given */
	unsigned	 seen;		/* bit j: required[j] given */
	int		 reported;	/* the error was printed already */
	size_t		 block;
	const char	*cap_path;
	const char	*out;
	/* Session. */
	struct gp_scp	 host, card;
	FILE		*scr, *exp;
	unsigned	 n;
	uint8_t		 cmd[512], wire[512], chk[512], rsp[128];
};

static void
usage(void)
{
	fprintf(stderr, "usage: tsmctl offline-script --proto 3|2 --i HEX "
	    "--kvn HEX --keys HEX --kdd HEX\n"
	    "           --seq N --sd-aid HEX --level 01|03 [--s 8|16] "
	    "[--host-challenge HEX]\n"
	    "           [--block N] [--cap FILE.cap] --out FILE\n");
}

/* Exactly want bytes (want 0: 1..cap bytes) of hex. */
static int
hexarg(const char *name, const char *v, uint8_t *out, size_t cap,
    size_t want, size_t *got)
{
	size_t n = 0;

	if (gp_hex_decode(v, out, cap, &n) != 0 || n == 0 ||
	    (want != 0 && n != want)) {
		fprintf(stderr, "offline-script: %s: bad hex value\n", name);
		return GP_ERR_INVAL;
	}
	if (got != NULL)
		*got = n;
	return 0;
}

static int
numarg(const char *name, const char *v, unsigned long max,
    unsigned long *out)
{
	char *end;

	*out = strtoul(v, &end, 0);
	if (*v == '\0' || *v == '-' || *end != '\0' || *out > max) {
		fprintf(stderr, "offline-script: %s: bad number %s\n", name, v);
		return GP_ERR_INVAL;
	}
	return 0;
}

static int
byte_arg(const char *name, const char *v, uint8_t *out)
{
	return hexarg(name, v, out, 1, 1, NULL);
}

/* The options that must be given (--cap, --s, --host-challenge and
 * --block may not). */
static const char *const required[] = { "--proto", "--i", "--kvn",
    "--keys", "--kdd", "--seq", "--sd-aid", "--level", "--out" };

static void
mark_seen(struct offline *o, const char *k)
{
	size_t j;

	for (j = 0; j < sizeof(required) / sizeof(required[0]); j++)
		if (strcmp(k, required[j]) == 0)
			o->seen |= 1u << j;
}

static int
parse_one(struct offline *o, const char *k, const char *v)
{
	unsigned long u;
	uint8_t key[GP_KEY_MAX];
	size_t n = 0;
	int r;

	if (strcmp(k, "--proto") == 0) {
		if ((r = numarg(k, v, 3, &u)) != 0 || u < 2)
			return GP_ERR_INVAL;
		o->proto = (int)u;
	} else if (strcmp(k, "--i") == 0)
		return byte_arg(k, v, &o->i);
	else if (strcmp(k, "--kvn") == 0)
		return byte_arg(k, v, &o->ks.kvn);
	else if (strcmp(k, "--level") == 0)
		return byte_arg(k, v, &o->level);
	else if (strcmp(k, "--keys") == 0) {
		if ((r = hexarg(k, v, key, sizeof(key), 0, &n)) == 0) {
			memcpy(o->ks.enc, key, n);
			memcpy(o->ks.mac, key, n);
			memcpy(o->ks.dek, key, n);
			o->ks.len = n;
		}
		gp_wipe(key, sizeof(key));
		return r;
	} else if (strcmp(k, "--kdd") == 0)
		return hexarg(k, v, o->kdd, sizeof(o->kdd), GP_KDD_LEN, NULL);
	else if (strcmp(k, "--seq") == 0) {
		if ((r = numarg(k, v, 0xFFFFFF, &u)) != 0)
			return r;
		o->seq = (uint32_t)u;
	} else if (strcmp(k, "--sd-aid") == 0)
		return hexarg(k, v, o->sd, sizeof(o->sd), 0, &o->sdlen);
	else if (strcmp(k, "--s") == 0) {
		if ((r = numarg(k, v, 16, &u)) != 0)
			return r;
		o->s = (uint8_t)u;
	} else if (strcmp(k, "--host-challenge") == 0) {
		if ((r = hexarg(k, v, o->hc, sizeof(o->hc), 0, &n)) != 0)
			return r;
		o->have_hc = (int)n;
	} else if (strcmp(k, "--block") == 0) {
		if ((r = numarg(k, v, 239, &u)) != 0 || u == 0)
			return GP_ERR_INVAL;
		o->block = u;
	} else if (strcmp(k, "--cap") == 0)
		o->cap_path = v;
	else if (strcmp(k, "--out") == 0)
		o->out = v;
	else {
		fprintf(stderr, "offline-script: unknown option %s\n", k);
		return GP_ERR_INVAL;
	}
	return 0;
}

/* Everything the session needs, consistent with the protocol. */
static int
check_args(struct offline *o)
{
	const char *why = NULL;
	size_t j;

	for (j = 0; j < sizeof(required) / sizeof(required[0]); j++)
		if ((o->seen & 1u << j) == 0) {
			fprintf(stderr, "offline-script: %s is needed\n",
			    required[j]);
			return GP_ERR_INVAL;
		}
	if (o->sdlen < GP_AID_MIN)
		why = "--sd-aid: 5..16 bytes";
	else if (o->proto == 3 && o->ks.len != 16 && o->ks.len != 24 &&
	    o->ks.len != 32)
		why = "SCP03: 16, 24 or 32-byte keys";
	else if (o->proto == 3 && (o->i & GP_SCP03_I_PRAND) == 0)
		why = "SCP03: i must ask for the pseudo-random challenge "
		    "(i = 10, 30, 70)";
	else if (o->proto == 2 && (o->i & GP_SCP02_I_PRAND) == 0)
		why = "SCP02: i must ask for the pseudo-random challenge "
		    "(i = 55)";
	else if (o->proto == 2 && (o->ks.len != 16 || o->seq > 0xFFFF ||
	    o->s != 8))
		why = "SCP02: 16-byte keys, a 16-bit counter, s = 8";
	else if (o->s != 8 && o->s != 16)
		why = "--s is 8 or 16";
	else if (o->have_hc && o->have_hc != o->s)
		why = "--host-challenge has s bytes";
	else if (o->level != GP_SL_CMAC && o->level != (GP_SL_CMAC |
	    GP_SL_CDEC))
		why = "--level 01 or 03: R-MAC and R-ENC need the card's "
		    "answers, which a replayed script cannot give back";
	if (why != NULL) {
		fprintf(stderr, "offline-script: %s\n", why);
		return GP_ERR_INVAL;
	}
	if (o->block == 0)
		o->block = OFF_BLOCK;
	if (!o->have_hc && RAND_bytes(o->hc, o->s) != 1)
		return GP_ERR_CRYPTO;
	return 0;
}

static void
put_hex_spaced(FILE *f, const uint8_t *p, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		fprintf(f, "%s%02X", k ? " " : "", p[k]);
	fputc('\n', f);
}

/*
 * One APDU of the script and its expectation. match: '*' any data, '='
 * exactly data, '~' data contains it.
 */
static int
emit(struct offline *o, const char *what, const uint8_t *wire, size_t n,
    uint16_t sw, char match, const uint8_t *data, size_t dlen)
{
	char hex[2 * 64 + 1];

	if (dlen > 64)
		return GP_ERR_INVAL;
	o->n++;
	fprintf(o->scr, "# %u: %s\n", o->n, what);
	put_hex_spaced(o->scr, wire, n);
	fprintf(o->exp, "%u %04X ", o->n, sw);
	if (match == '*')
		fputc('*', o->exp);
	else {
		gp_hex_encode(data, dlen, hex);
		fprintf(o->exp, "%c%s", match, hex);
	}
	fprintf(o->exp, " %s\n", what);
	return ferror(o->scr) || ferror(o->exp) ? GP_ERR_IO : 0;
}

/*
 * A command inside the channel: wrapped by the host role, unwrapped again
 * by the card role (which must give back the very command), then written.
 */
static int
wrapped(struct offline *o, const char *what, const struct gp_wr *plain,
    uint16_t sw, char match, const uint8_t *data, size_t dlen)
{
	struct gp_wr w, c;
	int r;

	gp_wr_init(&w, o->wire, sizeof(o->wire));
	gp_wr_init(&c, o->chk, sizeof(o->chk));
	if ((r = gp_scp_wrap(&o->host, plain->p, plain->len, &w)) != 0)
		return r;
	if ((r = gp_scp_card_unwrap(&o->card, w.p, w.len, &c)) != 0 ||
	    c.len != plain->len || memcmp(c.p, plain->p, c.len) != 0) {
		fprintf(stderr, "offline-script: %s: the card role refuses "
		    "the wrapped command\n", what);
		o->reported = 1;
		return r != 0 ? r : GP_ERR_AUTH;
	}
	return emit(o, what, w.p, w.len, sw, match, data, dlen);
}

/* The card challenge the card will draw, from its counter and SD AID. */
static int
predict(struct offline *o, uint8_t *cc, size_t *cclen)
{
	if (o->proto == 3) {
		*cclen = o->s;
		return gp_scp03_card_challenge(o->ks.enc, o->ks.len, o->s,
		    o->seq, o->sd, o->sdlen, cc);
	}
	*cclen = 6;
	return gp_scp02_card_challenge(o->ks.mac, (uint16_t)o->seq, o->sd,
	    o->sdlen, cc);
}

/* SELECT, INITIALIZE UPDATE (answer predicted), EXTERNAL AUTHENTICATE. */
static int
open_session(struct offline *o)
{
	struct gp_scp_card_cfg cfg = { .proto = o->proto, .i = o->i,
	    .s = o->s, .seq = o->seq, .sd_aid = o->sd,
	    .sd_aid_len = o->sdlen };
	uint8_t cc[16];
	struct gp_wr w, rsp;
	size_t cclen = 0, ccoff = o->proto == 3 ? 13 : 14;
	int r;

	memcpy(cfg.kdd, o->kdd, GP_KDD_LEN);
	gp_wr_init(&w, o->cmd, sizeof(o->cmd));
	if ((r = gp_cmd_select(o->sd, o->sdlen, GP_SELECT_FIRST, &w)) != 0 ||
	    (r = emit(o, "SELECT the security domain", w.p, w.len, 0x9000,
	    '*', NULL, 0)) != 0)
		return r;
	gp_wr_init(&w, o->cmd, sizeof(o->cmd));
	if ((r = gp_scp_host_init(&o->host, o->proto, o->i, o->s, o->ks.kvn,
	    o->hc, &w)) != 0)
		return r;
	/* The card's answer, computed by libgp's card role. */
	gp_wr_init(&rsp, o->rsp, sizeof(o->rsp));
	if ((r = gp_scp_card_init_update(&o->card, &cfg, &o->ks, w.p, w.len,
	    &rsp)) != 0 || (r = predict(o, cc, &cclen)) != 0)
		return r;
	if (rsp.len < ccoff + cclen + 2 ||
	    memcmp(rsp.p + ccoff, cc, cclen) != 0) {
		fprintf(stderr, "offline-script: the card role's challenge "
		    "differs from the prediction\n");
		o->reported = 1;
		return GP_ERR_STATE;
	}
	if ((r = emit(o, "INITIALIZE UPDATE (answer predicted from the "
	    "sequence counter)", w.p, w.len, 0x9000, '=', rsp.p,
	    rsp.len - 2)) != 0)
		return r;
	if ((r = gp_scp_host_auth(&o->host, &o->ks, rsp.p, rsp.len - 2)) != 0) {
		fprintf(stderr, "offline-script: card cryptogram: %s\n",
		    gp_strerror(r));
		o->reported = 1;
		return r;
	}
	gp_wr_init(&w, o->cmd, sizeof(o->cmd));
	if ((r = gp_scp_host_ext_auth(&o->host, o->level, &w)) != 0 ||
	    (r = gp_scp_card_ext_auth(&o->card, w.p, w.len)) != 0 ||
	    (r = gp_scp_host_confirm(&o->host, 0x9000)) != 0)
		return r;
	return emit(o, "EXTERNAL AUTHENTICATE", w.p, w.len, 0x9000, '*',
	    NULL, 0);
}

/* GET STATUS of one scope for one AID: 9000 naming it, or absent. */
static int
status_of(struct offline *o, const char *what, uint8_t scope,
    const uint8_t *aid, size_t n, int present)
{
	uint8_t crit[2 + GP_AID_MAX];
	struct gp_wr w;
	int r;

	crit[0] = 0x4F;
	crit[1] = (uint8_t)n;
	memcpy(crit + 2, aid, n);
	gp_wr_init(&w, o->cmd, sizeof(o->cmd));
	if ((r = gp_cmd_get_status(scope, GP_STATUS_TAGGED, crit, 2 + n,
	    &w)) != 0)
		return r;
	if (present)
		return wrapped(o, what, &w, 0x9000, '~', aid, n);
	return wrapped(o, what, &w, 0x6A88, '*', NULL, 0);
}

static int
load(struct offline *o, const struct gp_cap *cap)
{
	struct gp_install in = { .elf_aid = cap->pkg.b,
	    .elf_len = cap->pkg.len, .sd_aid = o->sd, .sd_len = o->sdlen };
	struct gp_load ld = { .lfdb = cap->lfdb, .lfdb_len = cap->lfdb_len,
	    .block = o->block };
	uint8_t hash[32];
	struct gp_wr w;
	char what[64];
	size_t hl;
	long n, k;
	int r;

	if ((r = gp_cap_lfdb_hash(cap, GP_CAP_SHA256, hash, sizeof(hash),
	    &hl)) != 0)
		return r;
	in.hash = hash;
	in.hash_len = hl;
	gp_wr_init(&w, o->cmd, sizeof(o->cmd));
	if ((r = gp_cmd_install(GP_INSTALL_LOAD, &in, &w)) != 0 ||
	    (r = wrapped(o, "INSTALL [for load]", &w, 0x9000, '*', NULL,
	    0)) != 0)
		return r;
	if ((n = gp_load_count(&ld)) < 0)
		return (int)n;
	for (k = 0; k < n; k++) {
		snprintf(what, sizeof(what), "LOAD block %ld of %ld", k + 1, n);
		gp_wr_init(&w, o->cmd, sizeof(o->cmd));
		if ((r = gp_cmd_load(&ld, (size_t)k, &w)) != 0 ||
		    (r = wrapped(o, what, &w, 0x9000, '*', NULL, 0)) != 0)
			return r;
	}
	return status_of(o, "GET STATUS (the load file is there)",
	    GP_STATUS_ELF, cap->pkg.b, cap->pkg.len, 1);
}

/* Load, install every applet, list, delete, list again. */
static int
cap_lifecycle(struct offline *o, const struct gp_cap *cap)
{
	static const uint8_t params[] = { 0xC9, 0x00 };
	static const uint8_t priv[] = { 0x00 };
	struct gp_install in = { .elf_aid = cap->pkg.b,
	    .elf_len = cap->pkg.len, .priv = priv, .priv_len = 1,
	    .params = params, .params_len = sizeof(params) };
	struct gp_delete del = { .aid = cap->pkg.b, .aid_len = cap->pkg.len,
	    .related = 1 };
	struct gp_wr w;
	size_t k;
	int r;

	if ((r = load(o, cap)) != 0)
		return r;
	for (k = 0; k < cap->napplets; k++) {
		in.mod_aid = in.app_aid = cap->applets[k].aid.b;
		in.mod_len = in.app_len = cap->applets[k].aid.len;
		gp_wr_init(&w, o->cmd, sizeof(o->cmd));
		if ((r = gp_cmd_install(GP_INSTALL_AND_SELECT, &in, &w)) != 0 ||
		    (r = wrapped(o, "INSTALL [for install and make "
		    "selectable]", &w, 0x9000, '*', NULL, 0)) != 0 ||
		    (r = status_of(o, "GET STATUS (the instance is there)",
		    GP_STATUS_APPS, in.app_aid, in.app_len, 1)) != 0)
			return r;
	}
	gp_wr_init(&w, o->cmd, sizeof(o->cmd));
	if ((r = gp_cmd_delete(&del, &w)) != 0 ||
	    (r = wrapped(o, "DELETE (the load file and its instances)", &w,
	    0x9000, '*', NULL, 0)) != 0)
		return r;
	for (k = 0; k < cap->napplets; k++)
		if ((r = status_of(o, "GET STATUS (the instance is gone)",
		    GP_STATUS_APPS, cap->applets[k].aid.b,
		    cap->applets[k].aid.len, 0)) != 0)
			return r;
	return status_of(o, "GET STATUS (the load file is gone)",
	    GP_STATUS_ELF, cap->pkg.b, cap->pkg.len, 0);
}

/*
 * Comments in the script name no path: scriptor stops at any line that
 * contains the word "exit", comments included.
 */
static void
header(struct offline *o)
{
	char hc[2 * 16 + 1], sd[2 * GP_AID_MAX + 1], kdd[2 * GP_KDD_LEN + 1];

	gp_hex_encode(o->hc, o->s, hc);
	gp_hex_encode(o->sd, o->sdlen, sd);
	gp_hex_encode(o->kdd, GP_KDD_LEN, kdd);
	fprintf(o->scr, "# tsmctl offline-script: SCP0%d i=%02X level %02X, "
	    "key version %02X, sequence counter %06X\n# security domain %s, "
	    "KDD %s, host challenge %s\n# run: scriptor FILE, then compare "
	    "the answers with FILE.expect\nreset\n", o->proto, o->i,
	    o->level, o->ks.kvn, (unsigned)o->seq, sd, kdd, hc);
	fprintf(o->exp, "# tsmctl offline-script expectations: APDU index "
	    "(reset not counted), SW, data (* any, =HEX exactly, ~HEX "
	    "containing), what\n# SCP0%d i=%02X level %02X kvn %02X seq "
	    "%06X host-challenge %s%s%s\n", o->proto, o->i, o->level,
	    o->ks.kvn, (unsigned)o->seq, hc, o->cap_path ? " cap " : "",
	    o->cap_path ? o->cap_path : "");
}

static int
generate(struct offline *o)
{
	struct gp_cap *cap = NULL;
	struct gp_wr w;
	int r;

	if (o->cap_path != NULL && (r = gp_cap_open_file(o->cap_path,
	    &cap)) != 0) {
		fprintf(stderr, "offline-script: %s: %s\n", o->cap_path,
		    gp_strerror(r));
		o->reported = 1;
		return r;
	}
	header(o);
	if ((r = open_session(o)) != 0)
		goto out;
	gp_wr_init(&w, o->cmd, sizeof(o->cmd));
	if ((r = gp_cmd_get_status(GP_STATUS_ISD, GP_STATUS_TAGGED, NULL, 0,
	    &w)) != 0 || (r = wrapped(o, "GET STATUS (the security domain)",
	    &w, 0x9000, '~', o->sd, o->sdlen)) != 0)
		goto out;
	if (cap != NULL && (r = cap_lifecycle(o, cap)) != 0)
		goto out;
	r = 0;
out:
	gp_cap_free(cap);
	return r;
}

static int
run(struct offline *o)
{
	char *xp = NULL;
	size_t n;
	int r = GP_ERR_IO;

	n = strlen(o->out) + sizeof(".expect");
	if ((xp = malloc(n)) == NULL)
		return GP_ERR_NOMEM;
	snprintf(xp, n, "%s.expect", o->out);
	if ((o->scr = fopen(o->out, "w")) == NULL ||
	    (o->exp = fopen(xp, "w")) == NULL) {
		fprintf(stderr, "offline-script: cannot write %s\n",
		    o->scr == NULL ? o->out : xp);
		o->reported = 1;
		goto out;
	}
	r = generate(o);
out:
	if (o->scr != NULL && fclose(o->scr) != 0 && r == 0)
		r = GP_ERR_IO;
	if (o->exp != NULL && fclose(o->exp) != 0 && r == 0)
		r = GP_ERR_IO;
	o->scr = o->exp = NULL;
	if (r != 0) {	/* never leave half a script behind */
		(void)remove(o->out);
		(void)remove(xp);
	}
	free(xp);
	return r;
}

int
tsmctl_offline_script(int argc, char **argv)
{
	struct offline *o;
	int k, r;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return 1;
	o->s = 8;
	r = argc % 2 == 0 ? 0 : GP_ERR_INVAL;
	for (k = 0; r == 0 && k + 1 < argc; k += 2) {
		r = parse_one(o, argv[k], argv[k + 1]);
		mark_seen(o, argv[k]);
	}
	if (r == 0)
		r = check_args(o);
	if (r != 0)
		usage();
	else if ((r = run(o)) != 0) {
		if (!o->reported)
			fprintf(stderr, "offline-script: %s\n",
			    gp_strerror(r));
	} else
		printf("%s: %u APDUs (SCP0%d, sequence counter %u); "
		    "expectations in %s.expect\n", o->out, o->n, o->proto,
		    (unsigned)o->seq, o->out);
	gp_scp_free(&o->host);
	gp_scp_free(&o->card);
	gp_keyset_wipe(&o->ks);
	gp_wipe(o, sizeof(*o));
	free(o);
	return r == 0 ? 0 : 1;
}
