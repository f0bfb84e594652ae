/*
 * Bulk import of manufacturer card files. The file streams through a
 * fixed buffer; rows go into one transaction (or one per commit_every
 * rows), each committed together with an audit record naming its rows
 * and their digest, so a crash leaves a chunk whole or absent. Bad rows
 * are reported by line and reason; unless skip_bad, any bad row rolls
 * the whole import back. Cards go in TSM_IMPORT_BATCH rows per INSERT;
 * when one of them is a duplicate the statement is undone whole (both
 * databases roll a failed statement back) and the batch goes again one
 * row at a time, so the bad row is named by its line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "gp/buf.h"
#include "store/store_int.h"
#include "store/import_int.h"

static const char sql_product_id[] = "SELECT id FROM products WHERE name = ?";
static const char sql_batch_id[] = "SELECT id FROM batches WHERE name = ?";
static const char sql_card_id[] = "SELECT id FROM cards WHERE csn = ?";
static const char sql_batch_add[] =
    "INSERT INTO batches (name, product_id, created) VALUES (?, ?, ?)";
static const char sql_card_add[] =
    "INSERT INTO cards (csn, iin, cin, kdd, product_id, batch_id,"
    " transport_kv, state, updated)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, 'manufactured', ?)";
#define ROW1	"(?, ?, ?, ?, ?, ?, ?, 'manufactured', ?)"
#define ROW2	ROW1 ", " ROW1
#define ROW4	ROW2 ", " ROW2
#define ROW8	ROW4 ", " ROW4
#define ROW16	ROW8 ", " ROW8
#define ROW32	ROW16 ", " ROW16
#define ROW64	ROW32 ", " ROW32
#define CARD_VALS	8
static const char sql_card_add_batch[] =
    "INSERT INTO cards (csn, iin, cin, kdd, product_id, batch_id,"
    " transport_kv, state, updated) VALUES " ROW64;
_Static_assert(TSM_IMPORT_BATCH == 64, "sql_card_add_batch has 64 rows");

static int
id_row(void *arg, const struct tsm_val *c, size_t n)
{
	if (n > 0 && c[0].t == TSM_V_INT)
		*(int64_t *)arg = c[0].i;
	return 0;
}

static int
lookup_id(struct tsm_store *s, const char *sql, const char *name,
    int64_t *id)
{
	struct tsm_val v = tsm_v_text(name);

	*id = 0;
	return s->be->query(s->db, sql, &v, 1, id_row, id);
}

/* The product must exist; the batch is created on first sight. */
static int
resolve(struct tsm_import *im, const struct tsm_import_row *row)
{
	struct tsm_store *s = im->s;
	struct tsm_val v[3];
	int r;

	if (strcmp(im->product, row->product) != 0 || im->product_id == 0) {
		if ((r = lookup_id(s, sql_product_id, row->product,
		    &im->product_id)) != 0)
			return r;
		snprintf(im->product, sizeof(im->product), "%s", row->product);
	}
	if (im->product_id == 0)
		return TSM_STORE_ERR_NOTFOUND;
	if (strcmp(im->batch, row->batch) == 0 && im->batch_id != 0)
		return 0;
	if ((r = lookup_id(s, sql_batch_id, row->batch, &im->batch_id)) != 0)
		return r;
	if (im->batch_id == 0) {
		v[0] = tsm_v_text(row->batch);
		v[1] = tsm_v_int(im->product_id);
		v[2] = tsm_v_int(tsm_now_ms());
		if ((r = s->be->exec(s->db, sql_batch_add, v, 3, NULL,
		    &im->batch_id)) != 0)
			return r;
	}
	snprintf(im->batch, sizeof(im->batch), "%s", row->batch);
	return 0;
}

static void
card_vals(struct tsm_import *im, const struct tsm_import_pending *p,
    struct tsm_val *v)
{
	v[0] = tsm_v_text(p->row.csn);
	v[1] = tsm_v_text(p->row.iin);
	v[2] = tsm_v_text(p->row.cin);
	v[3] = tsm_v_text(p->row.kdd);
	v[4] = tsm_v_int(p->product_id);
	v[5] = tsm_v_int(p->batch_id);
	v[6] = p->row.tkv >= 0 ? tsm_v_int(p->row.tkv) : tsm_v_text(NULL);
	v[7] = tsm_v_int(im->now);
}

/* A row is in: it counts for its chunk's audit record. */
static void
account(struct tsm_import *im, const struct tsm_import_row *row)
{
	if (im->chunk_rows++ == 0)
		snprintf(im->first_csn, sizeof(im->first_csn), "%s", row->csn);
	snprintf(im->last_csn, sizeof(im->last_csn), "%s", row->csn);
	EVP_DigestUpdate(im->md, row->csn, strlen(row->csn) + 1);
}

static void
dup_row(struct tsm_import *im, const struct tsm_import_pending *p)
{
	char why[300];

	snprintf(why, sizeof(why), "csn %s is already in the store",
	    p->row.csn);
	tsm_import_bad(im, p->line, why);
	im->failed = !im->o->skip_bad;
}

/* Writes the pending rows: one INSERT for a full batch, else one each. */
static int
flush(struct tsm_import *im)
{
	struct tsm_val v[CARD_VALS];
	int i, n = im->npend, r;

	if (n == 0)
		return 0;
	im->npend = 0;
	if (n == TSM_IMPORT_BATCH) {
		for (i = 0; i < n; i++)
			card_vals(im, &im->pend[i], im->vals + i * CARD_VALS);
		r = im->s->be->exec(im->s->db, sql_card_add_batch, im->vals,
		    (size_t)n * CARD_VALS, NULL, NULL);
		if (r != TSM_STORE_ERR_EXISTS) {
			for (i = 0; r == 0 && i < n; i++)
				account(im, &im->pend[i].row);
			return r;
		}
		/* a duplicate: undone whole; row by row to name it */
	}
	for (i = 0; i < n; i++) {
		card_vals(im, &im->pend[i], v);
		r = im->s->be->exec(im->s->db, sql_card_add, v, CARD_VALS,
		    NULL, NULL);
		if (r == TSM_STORE_ERR_EXISTS)
			dup_row(im, &im->pend[i]);
		else if (r != 0)
			return r;
		else
			account(im, &im->pend[i].row);
	}
	return 0;
}

static int
queue_card(struct tsm_import *im, uint64_t line,
    const struct tsm_import_row *row)
{
	struct tsm_import_pending *p;

	if (im->pend == NULL) {
		im->pend = calloc(TSM_IMPORT_BATCH, sizeof(*im->pend));
		im->vals = calloc(TSM_IMPORT_BATCH * CARD_VALS,
		    sizeof(*im->vals));
		if (im->pend == NULL || im->vals == NULL)
			return TSM_STORE_ERR_NOMEM;
	}
	p = &im->pend[im->npend++];
	p->row = *row;
	p->line = line;
	p->product_id = im->product_id;
	p->batch_id = im->batch_id;
	return im->npend == TSM_IMPORT_BATCH ? flush(im) : 0;
}

static int flush(struct tsm_import *);

void
tsm_import_bad(struct tsm_import *im, uint64_t line, const char *why)
{
	/* rows before this one first: bad rows are reported in line order */
	if (im->npend > 0 && im->flush_err == 0)
		im->flush_err = flush(im);
	im->res->bad++;
	if (im->o->bad_row != NULL && im->res->bad <= im->max_bad)
		im->o->bad_row(im->o->arg, line, why);
}

static int
begin_chunk(struct tsm_import *im)
{
	int r;

	if (im->in_tx)
		return 0;
	if ((r = im->s->be->begin(im->s->db)) != 0)
		return r == TSM_STORE_ERR_RETRY ? TSM_STORE_ERR_BUSY : r;
	im->in_tx = 1;
	im->chunk_rows = 0;
	im->first_csn[0] = '\0';
	if (EVP_DigestInit_ex(im->md, EVP_sha256(), NULL) != 1)
		return TSM_STORE_ERR_CRYPTO;
	return 0;
}

static int
end_chunk(struct tsm_import *im)
{
	char detail[512], hex[65];
	uint8_t d[32];
	unsigned int dl = 0;
	int r;

	if (!im->in_tx)
		return 0;
	if ((r = flush(im)) != 0)
		return r;
	if (im->failed)
		return 0;	/* a duplicate in the last rows: no commit */
	if (EVP_DigestFinal_ex(im->md, d, &dl) != 1)
		return TSM_STORE_ERR_CRYPTO;
	gp_hex_encode(d, 32, hex);
	snprintf(detail, sizeof(detail), "{\"file\":\"%.100s\",\"rows\":%llu,"
	    "\"first\":\"%s\",\"last\":\"%s\",\"sha256\":\"%s\"}", im->name,
	    (unsigned long long)im->chunk_rows, im->first_csn, im->last_csn,
	    hex);
	if (im->chunk_rows > 0 && (r = tsm_audit_append_tx(im->s,
	    im->o->actor, "inventory.import", im->first_csn, detail)) != 0)
		return r;
	if ((r = im->s->be->commit(im->s->db)) != 0)
		return r == TSM_STORE_ERR_RETRY ? TSM_STORE_ERR_BUSY : r;
	im->in_tx = 0;
	im->res->imported += im->chunk_rows;
	im->res->transactions++;
	return 0;
}

/* After a bad row (all or nothing): find the others, write nothing. */
static int
check_only(struct tsm_import *im, const struct tsm_import_row *row)
{
	int64_t id;
	int r;

	if ((r = lookup_id(im->s, sql_product_id, row->product, &id)) != 0)
		return r;
	if (id == 0)
		return TSM_STORE_ERR_NOTFOUND;
	if ((r = lookup_id(im->s, sql_card_id, row->csn, &id)) != 0)
		return r;
	return id != 0 ? TSM_STORE_ERR_EXISTS : 0;
}

/* One parsed row: insert it, or report why not. */
int
tsm_import_row_add(struct tsm_import *im, uint64_t line,
    const struct tsm_import_row *row)
{
	char why[300];
	int r;

	im->res->rows++;
	if (im->flush_err != 0)
		return im->flush_err;
	if (im->failed)
		r = check_only(im, row);	/* reporting every bad row */
	else if ((r = begin_chunk(im)) != 0)
		return r;
	else if ((r = resolve(im, row)) == 0)
		r = queue_card(im, line, row);
	if (r == TSM_STORE_ERR_NOTFOUND || r == TSM_STORE_ERR_EXISTS) {
		snprintf(why, sizeof(why), r == TSM_STORE_ERR_EXISTS ?
		    "csn %s is already in the store" : "unknown product "
		    "\"%.100s\"", r == TSM_STORE_ERR_EXISTS ? row->csn :
		    row->product);
		tsm_import_bad(im, line, why);
		im->failed = !im->o->skip_bad;
		return 0;
	}
	if (r != 0 || im->failed)
		return r;
	if (im->o->commit_every > 0 && im->chunk_rows + (uint64_t)im->npend >=
	    im->o->commit_every)
		return end_chunk(im);
	return 0;
}

int
tsm_import_finish(struct tsm_import *im, int r)
{
	if (r == 0)
		r = im->flush_err;
	if (r == 0 && !im->failed)
		r = end_chunk(im);	/* may find a duplicate: failed */
	if (r == 0 && im->failed)
		r = TSM_STORE_ERR_ROWS;
	if (r != 0 && im->in_tx) {
		(void)im->s->be->rollback(im->s->db);
		im->in_tx = 0;
	}
	if (r == 0 && im->res->bad > 0)
		r = TSM_STORE_ERR_ROWS;	/* skip_bad: committed the rest */
	free(im->pend);
	free(im->vals);
	im->pend = NULL;
	im->vals = NULL;
	im->npend = 0;
	return r;
}
