/*
 * tsmctl demo [CAP]: the core end to end, in memory. libgp's host role
 * opens an SCP03 channel (AES-128, i = 70, security level 33: C-MAC,
 * C-DECRYPTION, R-MAC, R-ENCRYPTION) to the demo card (libgp's card role),
 * with card keys diversified by KDF3 from a master key; it predicts the
 * pseudo-random card challenge, checks the card cryptogram, then loads and
 * installs a CAP (the project's demo CAP when none is given), reads the
 * registry back and selects the new applet. Every APDU is printed as sent
 * on the wire and, inside the channel, as plain text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "gp/apdu.h"
#include "gp/cap.h"
#include "gp/cmd.h"
#include "gp/err.h"
#include "gp/registry.h"
#include "gp/scp.h"
#include "capgen.h"
#include "demo_card.h"
#include "tsmctl.h"

#define DEMO_BLOCK	239	/* largest LOAD data that fits level 33 */

static const uint8_t demo_isd[] = { 0xA0, 0x00, 0x00, 0x01, 0x51, 0x00,
    0x00, 0x00 };
/* The GlobalPlatform test master key 40..4F: a demo, never a real key. */
static const uint8_t demo_master[16] = { 0x40, 0x41, 0x42, 0x43, 0x44,
    0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F };
static const uint8_t demo_kdd[GP_KDD_LEN] = { 0x00, 0x00, 0x54, 0x53,
    0x4D, 0x44, 0x45, 0x4D, 0x4F, 0x01 };

struct demo {
	struct demo_card *card;
	struct gp_scp	 scp;
	unsigned	 napdu;
	size_t		 wire_bytes;
	uint8_t		 cmd[GP_APDU_WIRE_MAX], wire[GP_APDU_WIRE_MAX];
	uint8_t		 rsp[GP_APDU_WIRE_MAX], plain[GP_APDU_WIRE_MAX];
	size_t		 plain_len;	/* last response, data ‖ SW */
	int		 raw;		/* send the next command as built */
};

static void
trace(const char *dir, const uint8_t *p, size_t n)
{
	char hex[2 * 48 + 1];
	size_t show = n > 48 ? 48 : n;

	gp_hex_encode(p, show, hex);
	printf("  %s %s%s", dir, hex, n > show ? "..." : "");
	if (n > show)
		printf(" (%zu bytes)", n);
	printf("\n");
}

/* Sends one command; wraps and unwraps it when the channel is open. */
static int
xmit(struct demo *d, const char *what, const uint8_t *cmd, size_t n,
    uint16_t *sw)
{
	struct gp_wr w, r, p;
	struct gp_rapdu ra;
	int open = d->scp.state == GP_SCP_OPEN && !d->raw, rc;

	printf("%s\n", what);
	gp_wr_init(&w, d->wire, sizeof(d->wire));
	if (open) {
		trace("plain >", cmd, n);
		if ((rc = gp_scp_wrap(&d->scp, cmd, n, &w)) != 0)
			return rc;
	} else if ((rc = gp_wr_put(&w, cmd, n)) != 0)
		return rc;
	trace("wire  >", w.p, w.len);
	gp_wr_init(&r, d->rsp, sizeof(d->rsp));
	if ((rc = demo_card_transmit(d->card, w.p, w.len, &r)) != 0)
		return rc;
	trace("wire  <", r.p, r.len);
	d->napdu++;
	d->wire_bytes += w.len + r.len;
	gp_wr_init(&p, d->plain, sizeof(d->plain));
	if (open && d->scp.state == GP_SCP_OPEN) {
		if ((rc = gp_scp_unwrap(&d->scp, r.p, r.len, &p)) != 0)
			return rc;
		trace("plain <", p.p, p.len);
	} else if ((rc = gp_wr_put(&p, r.p, r.len)) != 0)
		return rc;
	if ((rc = gp_rapdu_parse(p.p, p.len, &ra)) != 0)
		return rc;
	d->plain_len = p.len;
	*sw = ra.sw;
	return 0;
}

/* Sends a command built in d->cmd and requires 9000. */
static int
step(struct demo *d, const char *what, struct gp_wr *w)
{
	uint16_t sw;
	int rc;

	if ((rc = xmit(d, what, w->p, w->len, &sw)) != 0)
		return rc;
	if (sw != 0x9000) {
		fprintf(stderr, "demo: %s: card answered %04X\n", what, sw);
		return GP_ERR_STATE;
	}
	return 0;
}

static int
open_channel(struct demo *d, const struct gp_keyset *ks)
{
	uint8_t hc[8], cc[8];
	struct gp_wr w;
	uint16_t sw;
	uint32_t seq;
	int rc;

	gp_wr_init(&w, d->cmd, sizeof(d->cmd));
	if ((rc = gp_cmd_select(demo_isd, sizeof(demo_isd), 0, &w)) != 0 ||
	    (rc = step(d, "SELECT the Issuer Security Domain", &w)) != 0)
		return rc;
	if (RAND_bytes(hc, sizeof(hc)) != 1)
		return GP_ERR_CRYPTO;
	gp_wr_init(&w, d->cmd, sizeof(d->cmd));
	if ((rc = gp_scp_host_init(&d->scp, 3, 0x70, 8, 0x00, hc, &w)) != 0 ||
	    (rc = xmit(d, "INITIALIZE UPDATE", w.p, w.len, &sw)) != 0)
		return rc;
	if (sw != 0x9000 || d->plain_len != 13 + 16 + 3 + 2)
		return GP_ERR_FORMAT;
	/* i = 70: the host could have computed the card challenge itself. */
	seq = (uint32_t)d->plain[29] << 16 | (uint32_t)d->plain[30] << 8 |
	    d->plain[31];
	if ((rc = gp_scp03_card_challenge(ks->enc, ks->len, 8, seq, demo_isd,
	    sizeof(demo_isd), cc)) != 0)
		return rc;
	printf("  card challenge %s the prediction from counter %06X\n",
	    memcmp(cc, d->plain + 13, 8) == 0 ? "matches" : "DIFFERS FROM", seq);
	if ((rc = gp_scp_host_auth(&d->scp, ks, d->plain, 32)) != 0) {
		fprintf(stderr, "demo: card cryptogram: %s; stopping before "
		    "EXTERNAL AUTHENTICATE\n", gp_strerror(rc));
		return rc;
	}
	printf("  card cryptogram verified\n");
	gp_wr_init(&w, d->cmd, sizeof(d->cmd));
	if ((rc = gp_scp_host_ext_auth(&d->scp, GP_SL_CMAC | GP_SL_CDEC |
	    GP_SL_RMAC | GP_SL_RENC, &w)) != 0)
		return rc;
	d->raw = 1;	/* EXTERNAL AUTHENTICATE carries its own MAC */
	rc = xmit(d, "EXTERNAL AUTHENTICATE (level 33)", w.p, w.len, &sw);
	d->raw = 0;
	if (rc != 0)
		return rc;
	/* Anything but 9000 (6300: host cryptogram refused) ends it. */
	return gp_scp_host_confirm(&d->scp, sw);
}

static int
load_cap(struct demo *d, const struct gp_cap *cap)
{
	struct gp_install in = { .elf_aid = cap->pkg.b,
	    .elf_len = cap->pkg.len, .sd_aid = demo_isd,
	    .sd_len = sizeof(demo_isd) };
	struct gp_load ld = { .lfdb = cap->lfdb, .lfdb_len = cap->lfdb_len,
	    .block = DEMO_BLOCK };
	uint8_t hash[32];
	struct gp_wr w;
	char what[64];
	long n, k;
	size_t hl;
	int rc;

	if ((rc = gp_cap_lfdb_hash(cap, GP_CAP_SHA256, hash, sizeof(hash),
	    &hl)) != 0)
		return rc;
	in.hash = hash;
	in.hash_len = hl;
	gp_wr_init(&w, d->cmd, sizeof(d->cmd));
	if ((rc = gp_cmd_install(GP_INSTALL_LOAD, &in, &w)) != 0 ||
	    (rc = step(d, "INSTALL [for load]", &w)) != 0)
		return rc;
	if ((n = gp_load_count(&ld)) < 0)
		return (int)n;
	for (k = 0; k < n; k++) {
		snprintf(what, sizeof(what), "LOAD block %ld of %ld", k + 1, n);
		gp_wr_init(&w, d->cmd, sizeof(d->cmd));
		if ((rc = gp_cmd_load(&ld, (size_t)k, &w)) != 0 ||
		    (rc = step(d, what, &w)) != 0)
			return rc;
	}
	return 0;
}

static int
install_applets(struct demo *d, const struct gp_cap *cap)
{
	static const uint8_t params[] = { 0xC9, 0x00 };
	static const uint8_t priv[] = { 0x00 };
	struct gp_install in = { .elf_aid = cap->pkg.b,
	    .elf_len = cap->pkg.len, .priv = priv, .priv_len = 1,
	    .params = params, .params_len = sizeof(params) };
	struct gp_wr w;
	size_t k;
	int rc;

	for (k = 0; k < cap->napplets; k++) {
		in.mod_aid = in.app_aid = cap->applets[k].aid.b;
		in.mod_len = in.app_len = cap->applets[k].aid.len;
		gp_wr_init(&w, d->cmd, sizeof(d->cmd));
		if ((rc = gp_cmd_install(GP_INSTALL_AND_SELECT, &in, &w)) != 0 ||
		    (rc = step(d, "INSTALL [for install and make selectable]",
		    &w)) != 0)
			return rc;
	}
	return 0;
}

static int
show_registry(struct demo *d)
{
	struct gp_registry_entry e[8];
	char aid[33], elf[33];
	struct gp_wr w;
	size_t n = 0, k;
	const char *lc;
	int rc;

	gp_wr_init(&w, d->cmd, sizeof(d->cmd));
	if ((rc = gp_cmd_get_status(GP_STATUS_APPS, GP_STATUS_TAGGED, NULL, 0,
	    &w)) != 0 || (rc = step(d, "GET STATUS (applications)", &w)) != 0)
		return rc;
	if ((rc = gp_registry_parse(d->plain, d->plain_len - 2, e, 8,
	    &n)) != 0)
		return rc;
	printf("  registry: %zu application(s)\n", n);
	for (k = 0; k < n; k++) {
		gp_hex_encode(e[k].aid.p, e[k].aid.len, aid);
		gp_hex_encode(e[k].elf_aid.p, e[k].elf_aid.len, elf);
		lc = gp_lifecycle_name(GP_LC_APP, e[k].lifecycle);
		printf("    %s  %s  from load file %s\n", aid,
		    lc ? lc : "?", elf);
	}
	return n > 0 ? 0 : GP_ERR_NOTFOUND;
}

static int
select_applets(struct demo *d, const struct gp_cap *cap)
{
	struct gp_wr w;
	size_t k;
	int rc;

	/* SELECT goes to the card, not through the ISD's channel, and
	 * selecting another application ends that channel. */
	gp_scp_free(&d->scp);
	for (k = 0; k < cap->napplets; k++) {
		gp_wr_init(&w, d->cmd, sizeof(d->cmd));
		if ((rc = gp_cmd_select(cap->applets[k].aid.b,
		    cap->applets[k].aid.len, 0, &w)) != 0 ||
		    (rc = step(d, "SELECT the new applet", &w)) != 0)
			return rc;
	}
	return 0;
}

static int
demo_cap(int argc, char **argv, struct gp_cap **cap)
{
	static const uint8_t pkg[] = { 0xD2, 0x76, 0x00, 0x01, 0x77, 0x54,
	    0x53, 0x4D, 0x01 };
	static const uint8_t app[] = { 0xD2, 0x76, 0x00, 0x01, 0x77, 0x54,
	    0x53, 0x4D, 0x01, 0x01 };
	uint8_t *zip = NULL;
	size_t zn = 0;
	int rc;

	if (argc > 0)
		return gp_cap_open_file(argv[0], cap);
	if ((rc = capgen_demo(pkg, sizeof(pkg), app, sizeof(app), &zip,
	    &zn)) != 0)
		return rc;
	rc = gp_cap_open_mem(zip, zn, cap);
	free(zip);
	return rc;
}

static int
demo_run(struct demo *d, const struct gp_cap *cap)
{
	struct gp_keyset ks;
	char aid[33];
	int rc;

	memset(&ks, 0, sizeof(ks));
	/* Host and card both diversify from the master with the card's KDD. */
	if ((rc = gp_keyset_diversify(&ks, GP_DIV_KDF3, demo_master,
	    sizeof(demo_master), demo_kdd)) != 0)
		return rc;
	if ((d->card = demo_card_new(&ks, demo_kdd, 0x70, 0x00002A)) == NULL) {
		rc = GP_ERR_NOMEM;
		goto out;
	}
	gp_hex_encode(cap->pkg.b, cap->pkg.len, aid);
	printf("CAP: package %s, %zu applet(s), load file %zu bytes, "
	    "Java Card %s\n\n", aid, cap->napplets, cap->lfdb_len,
	    cap->jc_version ? cap->jc_version : "?");
	if ((rc = open_channel(d, &ks)) != 0 || (rc = load_cap(d, cap)) != 0 ||
	    (rc = install_applets(d, cap)) != 0)
		goto out;
	if (cap->napplets == 0) {
		printf("a library: loaded, nothing to install\n");
		goto out;
	}
	if ((rc = show_registry(d)) != 0)
		goto out;
	rc = select_applets(d, cap);
out:
	gp_keyset_wipe(&ks);
	return rc;
}

int
tsmctl_demo(int argc, char **argv)
{
	struct gp_cap *cap = NULL;
	struct demo *d;
	int rc;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return 1;
	if ((rc = demo_cap(argc, argv, &cap)) != 0) {
		fprintf(stderr, "demo: CAP: %s\n", gp_strerror(rc));
		free(d);
		return 1;
	}
	rc = demo_run(d, cap);
	if (rc == 0)
		printf("\ndone: %u APDUs, %zu bytes on the wire, %zu applet(s) "
		    "installed and selectable\n", d->napdu, d->wire_bytes,
		    cap->napplets);
	else
		fprintf(stderr, "demo failed: %s\n", gp_strerror(rc));
	gp_scp_free(&d->scp);
	demo_card_free(d->card);
	gp_cap_free(cap);
	gp_wipe(d, sizeof(*d));
	free(d);
	return rc == 0 ? 0 : 1;
}
