/* The tests' GP host: see simhost.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "gp/cmd.h"
#include "gp/err.h"
#include "simhost.h"

const uint8_t sh_isd[8] = { 0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00 };

void
sh_init(struct sh *h, sh_xmit x, void *arg)
{
	memset(h, 0, sizeof(*h));
	h->xmit = x;
	h->arg = arg;
}

void
sh_close(struct sh *h)
{
	gp_scp_free(&h->scp);
	memset(&h->scp, 0, sizeof(h->scp));
}

int
sh_send(struct sh *h, const uint8_t *cmd, size_t n)
{
	struct gp_wr w, p;
	struct gp_rapdu ra;
	size_t rlen = 0;
	int open = h->scp.state == GP_SCP_OPEN, r;

	gp_wr_init(&w, h->wire, sizeof(h->wire));
	if (open ? (r = gp_scp_wrap(&h->scp, cmd, n, &w)) != 0 :
	    (r = gp_wr_put(&w, cmd, n)) != 0)
		return r;
	if ((r = h->xmit(h->arg, w.p, w.len, h->rsp, sizeof(h->rsp),
	    &rlen)) != 0) {
		h->err = r;
		return r;
	}
	gp_wr_init(&p, h->plain, sizeof(h->plain));
	if (open && rlen > 2) {
		if ((r = gp_scp_unwrap(&h->scp, h->rsp, rlen, &p)) != 0)
			return r;
	} else if ((r = gp_wr_put(&p, h->rsp, rlen)) != 0)
		return r;
	if ((r = gp_rapdu_parse(p.p, p.len, &ra)) != 0)
		return r;
	h->data = ra.data;
	h->dlen = ra.len;
	h->sw = ra.sw;
	return 0;
}

int
sh_send_wr(struct sh *h, const struct gp_wr *w)
{
	return sh_send(h, w->p, w->len);
}

uint16_t
sh_sw(struct sh *h, const uint8_t *cmd, size_t n)
{
	return sh_send(h, cmd, n) == 0 ? h->sw : 0;
}

int
sh_select(struct sh *h, const uint8_t *aid, size_t n)
{
	struct gp_wr w;
	int r;

	sh_close(h);
	gp_wr_init(&w, h->cmd, sizeof(h->cmd));
	if ((r = gp_cmd_select(aid, n, 0, &w)) != 0 ||
	    (r = sh_send_wr(h, &w)) != 0)
		return r;
	return h->sw == 0x9000 ? 0 : GP_ERR_STATE;
}

int
sh_open(struct sh *h, int proto, uint8_t i, uint8_t s, uint8_t kvn,
    const struct gp_keyset *ks, uint8_t level)
{
	uint8_t hc[16];
	struct gp_wr w;
	int r;

	if ((r = sh_select(h, sh_isd, sizeof(sh_isd))) != 0)
		return r;
	if (RAND_bytes(hc, sizeof(hc)) != 1)
		return GP_ERR_CRYPTO;
	gp_wr_init(&w, h->cmd, sizeof(h->cmd));
	if ((r = gp_scp_host_init(&h->scp, proto, i, s, kvn, hc, &w)) != 0 ||
	    (r = sh_send_wr(h, &w)) != 0)
		return r;
	if (h->sw != 0x9000)
		return GP_ERR_STATE;
	if ((r = gp_scp_host_auth(&h->scp, ks, h->data, h->dlen)) != 0)
		return r;
	gp_wr_init(&w, h->cmd, sizeof(h->cmd));
	if ((r = gp_scp_host_ext_auth(&h->scp, level, &w)) != 0)
		return r;
	/* EXTERNAL AUTHENTICATE carries its own MAC: send it as built. */
	if ((r = h->xmit(h->arg, w.p, w.len, h->rsp, sizeof(h->rsp),
	    &h->dlen)) != 0)
		return r;
	h->sw = (uint16_t)(h->rsp[h->dlen - 2] << 8 | h->rsp[h->dlen - 1]);
	return h->sw == 0x9000 ? 0 : GP_ERR_AUTH;
}

int
sh_load(struct sh *h, const struct gp_cap *cap, size_t block)
{
	struct gp_install in = { .elf_aid = cap->pkg.b,
	    .elf_len = cap->pkg.len, .sd_aid = sh_isd,
	    .sd_len = sizeof(sh_isd) };
	struct gp_load ld = { .lfdb = cap->lfdb, .lfdb_len = cap->lfdb_len,
	    .block = block };
	uint8_t hash[32];
	struct gp_wr w;
	size_t hl;
	long n, k;
	int r;

	if ((r = gp_cap_lfdb_hash(cap, GP_CAP_SHA256, hash, sizeof(hash),
	    &hl)) != 0)
		return r;
	in.hash = hash;
	in.hash_len = hl;
	gp_wr_init(&w, h->cmd, sizeof(h->cmd));
	if ((r = gp_cmd_install(GP_INSTALL_LOAD, &in, &w)) != 0 ||
	    (r = sh_send_wr(h, &w)) != 0)
		return r;
	if (h->sw != 0x9000)
		return GP_ERR_STATE;
	if ((n = gp_load_count(&ld)) < 0)
		return (int)n;
	for (k = 0; k < n; k++) {
		gp_wr_init(&w, h->cmd, sizeof(h->cmd));
		if ((r = gp_cmd_load(&ld, (size_t)k, &w)) != 0 ||
		    (r = sh_send_wr(h, &w)) != 0)
			return r;
		if (h->sw != 0x9000)
			return GP_ERR_STATE;
	}
	return 0;
}

int
sh_install(struct sh *h, const uint8_t *elf, size_t en, const uint8_t *mod,
    size_t mn, const uint8_t *app, size_t an, uint8_t p1)
{
	static const uint8_t params[] = { 0xC9, 0x00 };
	static const uint8_t priv[] = { 0x00 };
	struct gp_install in = { .elf_aid = elf, .elf_len = en,
	    .mod_aid = mod, .mod_len = mn, .app_aid = app, .app_len = an,
	    .priv = priv, .priv_len = 1, .params = params,
	    .params_len = sizeof(params) };
	struct gp_wr w;
	int r;

	gp_wr_init(&w, h->cmd, sizeof(h->cmd));
	if ((r = gp_cmd_install(p1, &in, &w)) != 0 ||
	    (r = sh_send_wr(h, &w)) != 0)
		return r;
	return h->sw == 0x9000 ? 0 : GP_ERR_STATE;
}

int
sh_delete(struct sh *h, const uint8_t *aid, size_t n, int related)
{
	struct gp_delete d = { .aid = aid, .aid_len = n, .related = related };
	struct gp_wr w;
	int r;

	gp_wr_init(&w, h->cmd, sizeof(h->cmd));
	if ((r = gp_cmd_delete(&d, &w)) != 0 || (r = sh_send_wr(h, &w)) != 0)
		return r;
	return h->sw == 0x9000 ? 0 : GP_ERR_STATE;
}

int
sh_perso(struct sh *h, const uint8_t *app, size_t an, const uint8_t *dgis,
    size_t n)
{
	struct gp_install in = { .app_aid = app, .app_len = an };
	struct gp_store_iter it;
	struct gp_wr w;
	int r;

	gp_wr_init(&w, h->cmd, sizeof(h->cmd));
	if ((r = gp_cmd_install(GP_INSTALL_PERSO, &in, &w)) != 0 ||
	    (r = sh_send_wr(h, &w)) != 0)
		return r;
	if (h->sw != 0x9000)
		return GP_ERR_STATE;
	if ((r = gp_store_iter_init(&it, GP_STORE_DGI, dgis, n, 64, 0,
	    1)) != 0)
		return r;
	for (;;) {
		gp_wr_init(&w, h->cmd, sizeof(h->cmd));
		if ((r = gp_store_iter_next(&it, &w)) == GP_ERR_NOTFOUND)
			return 0;
		if (r != 0 || (r = sh_send_wr(h, &w)) != 0)
			return r;
		if (h->sw != 0x9000)
			return GP_ERR_STATE;
	}
}

void
sh_default_keys(struct gp_keyset *ks, size_t len, uint8_t kvn)
{
	size_t k;

	memset(ks, 0, sizeof(*ks));
	for (k = 0; k < len; k++)
		ks->enc[k] = ks->mac[k] = ks->dek[k] = (uint8_t)(0x40 + k);
	ks->len = len;
	ks->kvn = kvn;
}

const char *
sh_cap_path(const char *name)
{
	static char path[4096];
	const char *d = getenv("TSM_VECTORS");

#ifdef TSM_VECTORS_DIR
	if (d == NULL || *d == '\0')
		d = TSM_VECTORS_DIR;
#endif
	snprintf(path, sizeof(path), "%s/cap/%s", d ? d : ".", name);
	return path;
}
