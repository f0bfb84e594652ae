/*
 * The load files of install operations, parsed once. Every install of an
 * application version uses the same CAP file, and decoding and opening it
 * (ZIP, components, the Load File Data Block and its SHA-256) was the
 * largest single cost of building an install script. An install payload
 * names its CAP by SHA-256 and the store holds the bytes once per
 * application version (plan.c); payloads queued before schema 0005 carry
 * the CAP as hex. Entries are keyed by the SHA-256 of the CAP's bytes, or
 * for the old payloads by the SHA-256 of the hex text (a hit is then the
 * same text byte for byte); the kind of key is part of the entry, so the
 * two never meet. Entries hold only what a script needs (the package AID,
 * the LFDB and its hash), are copied out under the lock and never handed
 * out, and the oldest goes when the table is full. A CAP file whose LFDB
 * is over TSM_CAPC_LFDB_MAX is parsed every time.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "gp/buf.h"
#include "gp/cap.h"
#include "gp/err.h"
#include "server_int.h"

#define TSM_CAPC_N		16
#define TSM_CAPC_LFDB_MAX	(512 * 1024)

enum { CAPC_HEX = 1, CAPC_BYTES };

struct capc_entry {
	uint8_t		 key[32];	/* SHA-256 of the hex text or bytes */
	int		 kind;		/* CAPC_HEX or CAPC_BYTES */
	uint64_t	 used;		/* 0: empty; else the last use */
	struct tsm_capv	 v;
};

static struct {
	pthread_mutex_t		 mu;
	uint64_t		 tick;
	struct capc_entry	 e[TSM_CAPC_N];
} capc = { .mu = PTHREAD_MUTEX_INITIALIZER };

void
tsm_capv_free(struct tsm_capv *v)
{
	free(v->lfdb);
	memset(v, 0, sizeof(*v));
}

static int
capv_copy(const struct tsm_capv *from, struct tsm_capv *to)
{
	*to = *from;
	if ((to->lfdb = malloc(from->lfdb_len)) == NULL) {
		memset(to, 0, sizeof(*to));
		return GP_ERR_NOMEM;
	}
	memcpy(to->lfdb, from->lfdb, from->lfdb_len);
	return 0;
}

/* The parts of a CAP file (bytes) a script needs. */
static int
capv_parse_bytes(const uint8_t *p, size_t n, struct tsm_capv *v)
{
	struct gp_cap *cap = NULL;
	int r;

	memset(v, 0, sizeof(*v));
	if ((r = gp_cap_open_mem(p, n, &cap)) != 0)
		return r;
	r = GP_ERR_FORMAT;
	if (cap->pkg.len > sizeof(v->pkg) || cap->lfdb_len == 0)
		goto out;
	if ((r = gp_cap_lfdb_hash(cap, GP_CAP_SHA256, v->hash,
	    sizeof(v->hash), &v->hash_len)) != 0)
		goto out;
	memcpy(v->pkg, cap->pkg.b, cap->pkg.len);
	v->pkg_len = cap->pkg.len;
	v->lfdb_len = cap->lfdb_len;
	if ((v->lfdb = malloc(cap->lfdb_len)) == NULL) {
		r = GP_ERR_NOMEM;
		goto out;
	}
	memcpy(v->lfdb, cap->lfdb, cap->lfdb_len);
	r = 0;
 out:
	gp_cap_free(cap);
	if (r != 0)
		tsm_capv_free(v);
	return r;
}

static int
capv_parse_hex(const char *hex, size_t hn, struct tsm_capv *v)
{
	uint8_t *p;
	size_t n;
	int r;

	memset(v, 0, sizeof(*v));
	if (hn % 2 != 0 || strlen(hex) != hn)
		return GP_ERR_FORMAT;
	if ((p = malloc(hn / 2)) == NULL)
		return GP_ERR_NOMEM;
	if ((r = gp_hex_decode(hex, p, hn / 2, &n)) == 0)
		r = capv_parse_bytes(p, n, v);
	free(p);
	return r;
}

/* The entry for key, or NULL; the caller holds the lock. */
static struct capc_entry *
capc_find(int kind, const uint8_t key[32])
{
	size_t i;

	for (i = 0; i < TSM_CAPC_N; i++)
		if (capc.e[i].used != 0 && capc.e[i].kind == kind &&
		    memcmp(capc.e[i].key, key, 32) == 0)
			return &capc.e[i];
	return NULL;
}

/* A copy of v into the table, over the oldest entry; the caller holds
 * the lock. Out of memory only means no entry. */
static void
capc_put(int kind, const uint8_t key[32], const struct tsm_capv *v)
{
	struct capc_entry *old = &capc.e[0];
	struct tsm_capv c;
	size_t i;

	if (v->lfdb_len > TSM_CAPC_LFDB_MAX || capv_copy(v, &c) != 0)
		return;
	for (i = 1; i < TSM_CAPC_N; i++)
		if (capc.e[i].used < old->used)
			old = &capc.e[i];
	tsm_capv_free(&old->v);
	memcpy(old->key, key, 32);
	old->kind = kind;
	old->v = c;
	old->used = ++capc.tick;
}

/* A copy of the entry (kind, key) into v: 0 and *hit = 1 when there is
 * one, 0 and *hit = 0 when not. */
static int
capc_lookup(int kind, const uint8_t key[32], struct tsm_capv *v, int *hit)
{
	struct capc_entry *e;
	int r = 0;

	*hit = 0;
	memset(v, 0, sizeof(*v));
	pthread_mutex_lock(&capc.mu);
	if ((e = capc_find(kind, key)) != NULL) {
		e->used = ++capc.tick;
		r = capv_copy(&e->v, v);
		*hit = r == 0;
	}
	pthread_mutex_unlock(&capc.mu);
	return r;
}

/* v, parsed outside the lock, into the table unless another worker that
 * parsed the same file was first. */
static void
capc_add(int kind, const uint8_t key[32], const struct tsm_capv *v)
{
	pthread_mutex_lock(&capc.mu);
	if (capc_find(kind, key) == NULL)
		capc_put(kind, key, v);
	pthread_mutex_unlock(&capc.mu);
}

int
tsm_capv_get(const char *p, size_t n, struct tsm_capv *v, int *hit)
{
	uint8_t key[32];
	int r;

	*hit = 0;
	memset(v, 0, sizeof(*v));
	if (EVP_Digest(p, n, key, NULL, EVP_sha256(), NULL) != 1)
		return GP_ERR_CRYPTO;
	if ((r = capc_lookup(CAPC_HEX, key, v, hit)) != 0 || *hit)
		return r;
	if ((r = capv_parse_hex(p, n, v)) != 0)
		return r;
	capc_add(CAPC_HEX, key, v);
	return 0;
}

int
tsm_capv_find(const uint8_t sha[32], struct tsm_capv *v, int *hit)
{
	return capc_lookup(CAPC_BYTES, sha, v, hit);
}

int
tsm_capv_put(const uint8_t sha[32], const uint8_t *p, size_t n,
    struct tsm_capv *v)
{
	uint8_t md[32];
	int r;

	memset(v, 0, sizeof(*v));
	if (EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL) != 1)
		return GP_ERR_CRYPTO;
	/* The bytes must be the file the operation was queued for. */
	if (gp_ct_memcmp(md, sha, sizeof(md)) != 0)
		return GP_ERR_AUTH;
	if ((r = capv_parse_bytes(p, n, v)) != 0)
		return r;
	capc_add(CAPC_BYTES, sha, v);
	return 0;
}

void
tsm_capv_cache_clear(void)
{
	size_t i;

	pthread_mutex_lock(&capc.mu);
	for (i = 0; i < TSM_CAPC_N; i++) {
		tsm_capv_free(&capc.e[i].v);
		capc.e[i].used = 0;
	}
	pthread_mutex_unlock(&capc.mu);
}
