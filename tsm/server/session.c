/*
 * The session table: sessions by id, shared by every loop, in a chained
 * hash (the id is 16 random bytes in hex: its first 16 digits are the
 * hash). A session is used by one thread at a time (busy, taken under the
 * table lock); the table itself only maps ids to sessions. Session keys
 * live in the session's gp_scp and are wiped when it is freed.
 *
 * After the final 204 a session is kept for session_timeout_ms so that a
 * repeated request gets the same answer; it is then a tombstone: id,
 * agent, state, the last request's hash and reply. The per-script arrays
 * and the operations are freed when it is released (strip()).
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "gp/buf.h"
#include "server/server_int.h"

int64_t
tsm_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
tsm_reply_clear(struct tsm_reply *r)
{
	if (r->body != NULL) {
		gp_wipe(r->body, r->len);
		free(r->body);
	}
	memset(r, 0, sizeof(*r));
}

void
tsm_reply_text(struct tsm_reply *r, int code, const char *text)
{
	tsm_reply_clear(r);
	r->code = code;
	if ((r->body = (uint8_t *)strdup(text)) != NULL)
		r->len = strlen(text);
}

void
tsm_reply_end(struct tsm_reply *r, const char *sentence)
{
	tsm_reply_clear(r);
	r->code = 204;
	snprintf(r->result, sizeof(r->result), "%s", sentence);
}

int
tsm_sessions_init(struct tsm_sessions *t)
{
	memset(t, 0, sizeof(*t));
	t->cap = 1024;
	if ((t->v = calloc(t->cap, sizeof(*t->v))) == NULL)
		return TSM_ERR_NOMEM;
	if (pthread_mutex_init(&t->mu, NULL) != 0) {
		free(t->v);
		t->v = NULL;
		return TSM_ERR_NOMEM;
	}
	return 0;
}

static int
resize(void **p, size_t *cap, size_t n, size_t size, int wipe)
{
	void *np = NULL;

	if (n == *cap)
		return 0;
	if (n > 0) {
		if ((np = calloc(n, size)) == NULL)
			return TSM_ERR_NOMEM;
		if (*p != NULL)
			memcpy(np, *p, (n < *cap ? n : *cap) * size);
	}
	if (*p != NULL) {
		if (wipe)
			gp_wipe(*p, *cap * size);
		free(*p);
	}
	*p = np;
	*cap = n;
	return 0;
}

int
tsm_session_tags(struct tsm_session *s, size_t n)
{
	return resize((void **)&s->tags, &s->cmds_cap, n, sizeof(*s->tags),
	    0);
}

int
tsm_session_marks(struct tsm_session *s, size_t n)
{
	return resize((void **)&s->marks, &s->marks_cap, n,
	    sizeof(*s->marks), 1);
}

int
tsm_session_reg(struct tsm_session *s, size_t n)
{
	return resize((void **)&s->reg, &s->reg_cap, n, sizeof(*s->reg), 0);
}

/* Frees everything but what a finished session answers a replay with. */
static void
strip(struct tsm_session *s)
{
	size_t i;

	(void)tsm_session_tags(s, 0);
	(void)tsm_session_marks(s, 0);
	(void)tsm_session_reg(s, 0);
	s->ncmds = s->nreg = 0;
	if (s->opblk != NULL) {
		for (i = 0; i < s->nops; i++)
			tsm_op_clear(&s->ops[i]);
		gp_wipe(s->opblk, sizeof(*s->opblk));
		free(s->opblk);
	}
	s->opblk = NULL;
	s->ops = NULL;
	s->op_state = NULL;
	s->op_result = NULL;
	s->op_refused = NULL;
	s->rot_kvn = NULL;
	s->rot_kcv = NULL;
	s->nops = 0;
	gp_scp_free(&s->scp);
	s->tomb = 1;
}

void
tsm_session_free(struct tsm_session *s)
{
	if (s == NULL)
		return;
	strip(s);
	tsm_reply_clear(&s->last_reply);
	gp_wipe(s, sizeof(*s));
	free(s);
}

void
tsm_sessions_free(struct tsm_sessions *t)
{
	struct tsm_session *s, *nx;
	size_t i;

	for (i = 0; i < t->cap; i++)
		for (s = t->v[i]; s != NULL; s = nx) {
			nx = s->hnext;
			tsm_session_free(s);
		}
	free(t->v);
	pthread_mutex_destroy(&t->mu);
	memset(t, 0, sizeof(*t));
}

static int
new_id(char id[TSM_SID_LEN + 1])
{
	uint8_t b[TSM_SID_LEN / 2];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return TSM_ERR_NOMEM;
	gp_hex_encode(b, sizeof(b), id);
	return 0;
}

/* Ids are random: FNV-1a of the text is plenty (ids from a request are
 * any 32 hex digits, so no assumption on their spread). */
static size_t
hash_id(const char *id)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *id != '\0'; id++)
		h = (h ^ (uint8_t)*id) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 32));
}

/* Under t->mu: doubles the buckets (kept as is when out of memory). */
static void
grow(struct tsm_sessions *t)
{
	struct tsm_session **nv, *s, *nx;
	size_t ncap = t->cap * 2, i, b;

	if ((nv = calloc(ncap, sizeof(*nv))) == NULL)
		return;
	for (i = 0; i < t->cap; i++)
		for (s = t->v[i]; s != NULL; s = nx) {
			nx = s->hnext;
			b = hash_id(s->id) & (ncap - 1);
			s->hnext = nv[b];
			nv[b] = s;
		}
	free(t->v);
	t->v = nv;
	t->cap = ncap;
}

int
tsm_session_new(struct tsm_sessions *t, const char *agent,
    struct tsm_session **out)
{
	struct tsm_session *s;
	size_t b;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TSM_ERR_NOMEM;
	if ((s->opblk = calloc(1, sizeof(*s->opblk))) == NULL ||
	    new_id(s->id) != 0) {
		free(s->opblk);
		free(s);
		return TSM_ERR_NOMEM;
	}
	s->ops = s->opblk->ops;
	s->op_state = s->opblk->op_state;
	s->op_result = s->opblk->op_result;
	s->op_refused = s->opblk->op_refused;
	s->rot_kvn = s->opblk->rot_kvn;
	s->rot_kcv = s->opblk->rot_kcv;
	snprintf(s->agent, sizeof(s->agent), "%s", agent);
	s->busy = 1;
	s->last_ms = tsm_mono_ms();
	pthread_mutex_lock(&t->mu);
	if (t->n >= t->cap)
		grow(t);
	b = hash_id(s->id) & (t->cap - 1);
	s->hnext = t->v[b];
	t->v[b] = s;
	t->n++;
	pthread_mutex_unlock(&t->mu);
	*out = s;
	return 0;
}

/* Under t->mu: the link that points at the session with id, or NULL. */
static struct tsm_session **
find(struct tsm_sessions *t, const char *id)
{
	struct tsm_session **pp;

	for (pp = &t->v[hash_id(id) & (t->cap - 1)]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (strcmp((*pp)->id, id) == 0)
			return pp;
	return NULL;
}

int
tsm_session_take(struct tsm_sessions *t, const char *id, const char *agent,
    struct tsm_session **out)
{
	struct tsm_session **pp, *s;
	int r = 0;

	*out = NULL;
	pthread_mutex_lock(&t->mu);
	if ((pp = find(t, id)) == NULL)
		r = TSM_ERR_NOTFOUND;
	else if (strcmp((s = *pp)->agent, agent) != 0)
		r = TSM_ERR_NOTFOUND;	/* another agent's: never say so */
	else if (s->busy)
		r = TSM_ERR_BUSY;
	else {
		s->busy = 1;
		*out = s;
	}
	pthread_mutex_unlock(&t->mu);
	return r;
}

void
tsm_session_release(struct tsm_sessions *t, struct tsm_session *s)
{
	/* Finished: only the replay answer is kept (the session is still
	 * ours, busy, so no lock is needed for this). */
	if (s->state == TSM_SESS_DONE && !s->tomb)
		strip(s);
	pthread_mutex_lock(&t->mu);
	s->last_ms = tsm_mono_ms();
	s->busy = 0;
	pthread_mutex_unlock(&t->mu);
}

void
tsm_session_end(struct tsm_sessions *t, struct tsm_session *s)
{
	struct tsm_session **pp;

	pthread_mutex_lock(&t->mu);
	if ((pp = find(t, s->id)) != NULL && *pp == s) {
		*pp = s->hnext;
		t->n--;
	}
	pthread_mutex_unlock(&t->mu);
	tsm_session_free(s);
}

size_t
tsm_sessions_expired(struct tsm_sessions *t, int64_t cutoff,
    struct tsm_session **out, size_t cap)
{
	struct tsm_session **pp, *s;
	size_t i, n = 0;

	pthread_mutex_lock(&t->mu);
	for (i = 0; i < t->cap && n < cap; i++) {
		pp = &t->v[i];
		while ((s = *pp) != NULL && n < cap) {
			if (!s->busy && s->last_ms < cutoff) {
				*pp = s->hnext;
				s->hnext = NULL;
				s->busy = 1;
				out[n++] = s;
				t->n--;
				continue;
			}
			pp = &s->hnext;
		}
	}
	pthread_mutex_unlock(&t->mu);
	return n;
}

size_t
tsm_sessions_count(struct tsm_sessions *t)
{
	size_t n;

	pthread_mutex_lock(&t->mu);
	n = t->n;
	pthread_mutex_unlock(&t->mu);
	return n;
}
