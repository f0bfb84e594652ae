/*
 * Opening a store by URL, the transaction runner with retries, and the
 * small value helpers every statement uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gp/buf.h"
#include "store/store_int.h"

int	tsm_crypt_file_kek(struct tsm_store *);		/* crypt.c */

struct tsm_val
tsm_v_int(int64_t i)
{
	struct tsm_val v = { TSM_V_INT, i, NULL, 0 };

	return v;
}

struct tsm_val
tsm_v_text(const char *s)
{
	struct tsm_val v = { TSM_V_NULL, 0, NULL, 0 };

	if (s != NULL && *s != '\0') {
		v.t = TSM_V_TEXT;
		v.p = s;
		v.n = strlen(s);
	}
	return v;
}

struct tsm_val
tsm_v_blob(const void *p, size_t n)
{
	struct tsm_val v = { TSM_V_BLOB, 0, p, n };

	return v;
}

void
tsm_v_copy(const struct tsm_val *v, char *dst, size_t cap)
{
	size_t n;

	if (cap == 0)
		return;
	n = 0;
	if ((v->t == TSM_V_TEXT || v->t == TSM_V_BLOB) && v->p != NULL) {
		n = v->n < cap - 1 ? v->n : cap - 1;
		memcpy(dst, v->p, n);
	}
	dst[n] = '\0';
}

int64_t
tsm_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const struct tsm_store_backend *
pick_backend(const char *url)
{
	if (strncmp(url, "sqlite:", 7) == 0)
		return &tsm_store_sqlite;
#ifdef TSM_HAVE_MARIADB
	if (strncmp(url, "mariadb://", 10) == 0)
		return &tsm_store_mariadb;
#endif
	return NULL;
}

int
tsm_store_open(struct tsm_store **out, const char *url,
    const struct tsm_store_opts *opts)
{
	struct tsm_store *s = NULL;
	struct tsm_store_opts none = { NULL, 0 };
	int r;

	*out = NULL;
	if (url == NULL)
		return TSM_STORE_ERR_INVAL;
	if (opts == NULL)
		opts = &none;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TSM_STORE_ERR_NOMEM;
	if ((s->be = pick_backend(url)) == NULL) {
		r = strncmp(url, "mariadb://", 10) == 0 ?
		    TSM_STORE_ERR_UNSUPPORTED : TSM_STORE_ERR_URL;
		goto out;
	}
	if ((r = s->be->open(url, opts, &s->db, s->err, sizeof(s->err))) != 0)
		goto out;
	tsm_audit_default(&s->hasher);
	if (opts->key_file != NULL)
		snprintf(s->kek_path, sizeof(s->kek_path), "%s", opts->key_file);
	else if (s->be->default_kek_path(s->db) != NULL)
		snprintf(s->kek_path, sizeof(s->kek_path), "%s",
		    s->be->default_kek_path(s->db));
	*out = s;
	s = NULL;
	r = 0;
 out:
	free(s);
	return r;
}

void
tsm_store_close(struct tsm_store *s)
{
	if (s == NULL)
		return;
	if (s->db != NULL)
		s->be->close(s->db);
	gp_wipe(&s->kek, sizeof(s->kek));
	free(s);
}

const char *
tsm_store_errmsg(const struct tsm_store *s)
{
	if (s->err[0] != '\0')
		return s->err;
	return s->db != NULL ? s->be->errmsg(s->db) : "";
}

const char *
tsm_store_backend(const struct tsm_store *s)
{
	return s->be->name;
}

int
tsm_store_disk_bytes(struct tsm_store *s, int64_t *bytes)
{
	return s->be->disk_bytes(s->db, bytes);
}

static void
backoff(int attempt)
{
	struct timespec ts;

	ts.tv_sec = 0;
	ts.tv_nsec = (long)(1 << attempt) * 5000000L;	/* 5 ms, 10, 20.. */
	nanosleep(&ts, NULL);
}

int
tsm_store_tx(struct tsm_store *s, tsm_tx_fn fn, void *arg)
{
	int attempt, r;

	if (s->in_tx)
		return fn(s, arg);
	for (attempt = 0; attempt < 8; attempt++) {
		s->err[0] = '\0';
		if ((r = s->be->begin(s->db)) == 0) {
			s->in_tx = 1;
			r = fn(s, arg);
			s->in_tx = 0;
			if (r == 0)
				r = s->be->commit(s->db);
			if (r != 0)
				(void)s->be->rollback(s->db);
		}
		if (r != TSM_STORE_ERR_RETRY)
			return r;
		backoff(attempt);
	}
	return TSM_STORE_ERR_BUSY;
}
