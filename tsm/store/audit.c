/*
 * The audit log: an append-only hash chain. Each record's link is
 * H(previous link || canonical record); audit_head holds the newest link
 * and is locked by every append, so concurrent writers serialise and the
 * chain stays a chain. The embedded H is SHA-256; a keyed HMAC from
 * tsm-keyd plugs in through struct tsm_audit_hasher.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "gp/buf.h"
#include "store/store_int.h"

#define AUDIT_FIELD_MAX	65536

static const char sql_head_sqlite[] =
    "SELECT seq, hash FROM audit_head WHERE id = 1";
const char tsm_sql_audit_head_lock[] =
    "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE";
const char tsm_sql_audit_insert[] =
    "INSERT INTO audit_log (seq, at, actor, action, object, detail, alg,"
    " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
const char tsm_sql_audit_update_head[] =
    "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1";

static int
sha256_link(void *ctx, const uint8_t prev[32], const uint8_t *rec,
    size_t len, uint8_t out[32])
{
	EVP_MD_CTX *md;
	unsigned int n = 0;
	int ok;

	(void)ctx;
	if ((md = EVP_MD_CTX_new()) == NULL)
		return TSM_STORE_ERR_NOMEM;
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, prev, 32) == 1 &&
	    EVP_DigestUpdate(md, rec, len) == 1 &&
	    EVP_DigestFinal_ex(md, out, &n) == 1 && n == 32;
	EVP_MD_CTX_free(md);
	return ok ? 0 : TSM_STORE_ERR_CRYPTO;
}

void
tsm_audit_default(struct tsm_audit_hasher *h)
{
	h->alg = "sha256";
	h->link = sha256_link;
	h->ctx = NULL;
}

void
tsm_store_set_audit_hasher(struct tsm_store *s,
    const struct tsm_audit_hasher *h)
{
	if (h == NULL)
		tsm_audit_default(&s->hasher);
	else
		s->hasher = *h;
}

static int
put_be(struct gp_wr *w, uint64_t v, int n)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return gp_wr_put(w, b, (size_t)n);
}

static int
put_str(struct gp_wr *w, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	int r;

	if (n > AUDIT_FIELD_MAX)
		return TSM_STORE_ERR_TOOLARGE;
	if ((r = put_be(w, n, 4)) != 0 || (r = gp_wr_put(w, s, n)) != 0)
		return r;
	return 0;
}

int
tsm_audit_record(int64_t seq, int64_t at, const char *actor,
    const char *action, const char *object, const char *detail,
    uint8_t **out, size_t *outlen)
{
	struct gp_wr w;
	int r;

	gp_wr_init_dyn(&w, 4 * (AUDIT_FIELD_MAX + 4) + 32);
	if ((r = gp_wr_put(&w, "TSMA1", 5)) != 0 ||
	    (r = put_be(&w, (uint64_t)seq, 8)) != 0 ||
	    (r = put_be(&w, (uint64_t)at, 8)) != 0 ||
	    (r = put_str(&w, actor)) != 0 || (r = put_str(&w, action)) != 0 ||
	    (r = put_str(&w, object)) != 0 || (r = put_str(&w, detail)) != 0) {
		r = TSM_STORE_ERR_TOOLARGE;	/* a field or the whole */
		goto out;
	}
	r = (*out = gp_wr_steal(&w, outlen)) == NULL ? TSM_STORE_ERR_NOMEM : 0;
 out:
	gp_wr_free(&w);
	return r;
}

int
tsm_audit_link(const struct tsm_audit_hasher *hs, int64_t seq, int64_t at,
    const uint8_t prev[32], const char *actor, const char *action,
    const char *object, const char *detail, uint8_t link[32])
{
	uint8_t *rec = NULL;
	size_t len;
	int r;

	if ((r = tsm_audit_record(seq, at, actor, action, object, detail,
	    &rec, &len)) != 0)
		return r;
	r = hs->link(hs->ctx, prev, rec, len, link);
	free(rec);
	return r;
}

struct head {
	int64_t	seq;
	uint8_t	hash[32];
	int	found;
};

static int
head_row(void *arg, const struct tsm_val *c, size_t n)
{
	struct head *h = arg;

	if (n < 2 || c[0].t != TSM_V_INT || c[1].n != 32)
		return TSM_STORE_ERR_TAMPER;
	h->seq = c[0].i;
	memcpy(h->hash, c[1].p, 32);
	h->found = 1;
	return 0;
}

static int
read_head(struct tsm_store *s, int lock, struct head *h)
{
	const char *sql = lock && s->be->dialect == TSM_DIALECT_MARIADB ?
	    tsm_sql_audit_head_lock : sql_head_sqlite;
	int r;

	memset(h, 0, sizeof(*h));
	if ((r = s->be->query(s->db, sql, NULL, 0, head_row, h)) != 0)
		return r;
	return h->found ? 0 : TSM_STORE_ERR_SCHEMA;
}

int
tsm_audit_append_tx(struct tsm_store *s, const char *actor,
    const char *action, const char *object, const char *detail)
{
	struct head h;
	struct tsm_val v[9];
	uint8_t link[32];
	int64_t at = tsm_now_ms();
	int r;

	if (actor == NULL)
		actor = "system";
	if (strlen(actor) > TSM_NAME_MAX || strlen(action) > 64 ||
	    strlen(object) > TSM_NAME_MAX)
		return TSM_STORE_ERR_TOOLARGE;
	if ((r = read_head(s, 1, &h)) != 0)
		return r;
	if ((r = tsm_audit_link(&s->hasher, h.seq + 1, at, h.hash, actor,
	    action, object, detail, link)) != 0)
		return r;
	v[0] = tsm_v_int(h.seq + 1);
	v[1] = tsm_v_int(at);
	v[2] = tsm_v_text(actor);
	v[3] = tsm_v_text(action);
	v[4] = tsm_v_text(object);
	v[5] = (struct tsm_val){ TSM_V_TEXT, 0, detail, strlen(detail) };
	v[6] = tsm_v_text(s->hasher.alg);
	v[7] = tsm_v_blob(h.hash, 32);
	v[8] = tsm_v_blob(link, 32);
	if ((r = s->be->exec(s->db, tsm_sql_audit_insert, v, 9, NULL,
	    NULL)) != 0)
		return r;
	v[0] = tsm_v_int(h.seq + 1);
	v[1] = tsm_v_blob(link, 32);
	return s->be->exec(s->db, tsm_sql_audit_update_head, v, 2, NULL, NULL);
}

struct append_args {
	const char *actor, *action, *object, *detail;
};

static int
append_fn(struct tsm_store *s, void *arg)
{
	struct append_args *a = arg;

	return tsm_audit_append_tx(s, a->actor, a->action, a->object,
	    a->detail);
}

int
tsm_store_audit_append(struct tsm_store *s, const char *actor,
    const char *action, const char *object, const char *detail)
{
	struct append_args a = { actor, action, object, detail };

	if (action == NULL || *action == '\0' || object == NULL ||
	    *object == '\0' || detail == NULL)
		return TSM_STORE_ERR_INVAL;
	return tsm_store_tx(s, append_fn, &a);
}
