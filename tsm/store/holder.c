/*
 * Cardholders. Personal fields are sealed one by one (crypt.c) with the
 * field's name as associated data, so a value moved to another column
 * does not decrypt; the database sees only ciphertext and the DEK's id.
 */
#include <stdio.h>
#include <string.h>

#include "gp/buf.h"
#include "store/store_int.h"

static const char sql_add[] =
    "INSERT INTO cardholders (dek_id, name_enc, email_enc, phone_enc,"
    " created) VALUES (?, ?, ?, ?, ?)";
static const char sql_get[] =
    "SELECT dek_id, name_enc, email_enc, phone_enc FROM cardholders"
    " WHERE id = ?";

#define ENC_MAX	(256 + TSM_FIELD_OVERHEAD)

struct sealed {
	uint8_t	b[3][ENC_MAX];
	size_t	n[3];
};

static int
holder_add_fn(struct tsm_store *s, void *arg)
{
	void **a = arg;
	const struct tsm_holder *h = a[0];
	int64_t *id = a[1];
	struct sealed e;
	struct tsm_val v[5];
	char obj[40];
	int r;

	if ((r = tsm_crypt_dek(s, 0)) != 0)
		return r;
	if ((r = tsm_crypt_field(s, "holder.name", h->name, e.b[0], ENC_MAX,
	    &e.n[0])) != 0 || (r = tsm_crypt_field(s, "holder.email",
	    h->email, e.b[1], ENC_MAX, &e.n[1])) != 0 ||
	    (r = tsm_crypt_field(s, "holder.phone", h->phone, e.b[2], ENC_MAX,
	    &e.n[2])) != 0)
		return r;
	v[0] = tsm_v_int(s->dek_id);
	v[1] = tsm_v_blob(e.b[0], e.n[0]);
	v[2] = tsm_v_blob(e.b[1], e.n[1]);
	v[3] = tsm_v_blob(e.b[2], e.n[2]);
	v[4] = tsm_v_int(tsm_now_ms());
	if ((r = s->be->exec(s->db, sql_add, v, 5, NULL, id)) != 0)
		return r;
	snprintf(obj, sizeof(obj), "holder:%lld", (long long)*id);
	return tsm_audit_append_tx(s, NULL, "holder.add", obj, "{}");
}

int
tsm_store_holder_add(struct tsm_store *s, const struct tsm_holder *h,
    int64_t *id)
{
	void *a[2];

	a[0] = (void *)(uintptr_t)h;
	a[1] = id;
	if (memchr(h->name, '\0', sizeof(h->name)) == NULL ||
	    memchr(h->email, '\0', sizeof(h->email)) == NULL ||
	    memchr(h->phone, '\0', sizeof(h->phone)) == NULL)
		return TSM_STORE_ERR_INVAL;
	return tsm_store_tx(s, holder_add_fn, a);
}

struct holder_row {
	int64_t		 dek_id;
	struct sealed	 e;
	int		 found;
};

static int
holder_row_fn(void *arg, const struct tsm_val *c, size_t n)
{
	struct holder_row *h = arg;
	int i;

	if (n < 4 || c[0].t != TSM_V_INT)
		return TSM_STORE_ERR_DB;
	h->dek_id = c[0].i;
	for (i = 0; i < 3; i++) {
		if (c[1 + i].n > ENC_MAX)
			return TSM_STORE_ERR_CRYPTO;
		memcpy(h->e.b[i], c[1 + i].p, c[1 + i].n);
		h->e.n[i] = c[1 + i].n;
	}
	h->found = 1;
	return 0;
}

int
tsm_store_holder_get(struct tsm_store *s, int64_t id, struct tsm_holder *h)
{
	struct holder_row row;
	struct tsm_val v = tsm_v_int(id);
	int r;

	memset(&row, 0, sizeof(row));
	memset(h, 0, sizeof(*h));
	if ((r = s->be->query(s->db, sql_get, &v, 1, holder_row_fn,
	    &row)) != 0)
		return r;
	if (!row.found)
		return TSM_STORE_ERR_NOTFOUND;
	if ((r = tsm_crypt_dek(s, row.dek_id)) != 0 ||
	    (r = tsm_decrypt_field(s, "holder.name", row.e.b[0], row.e.n[0],
	    h->name, sizeof(h->name))) != 0 ||
	    (r = tsm_decrypt_field(s, "holder.email", row.e.b[1], row.e.n[1],
	    h->email, sizeof(h->email))) != 0 ||
	    (r = tsm_decrypt_field(s, "holder.phone", row.e.b[2], row.e.n[2],
	    h->phone, sizeof(h->phone))) != 0)
		gp_wipe(h, sizeof(*h));
	return r;
}
