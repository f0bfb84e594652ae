/*
 * The session table: sessions by id, shared by every loop. A session is
 * used by one thread at a time (busy, taken under the table lock); the
 * table itself only maps ids to sessions. Session keys live in the
 * session's gp_scp and are wiped when it is freed.
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

int
tsm_sessions_init(struct tsm_sessions *t)
{
	memset(t, 0, sizeof(*t));
	return pthread_mutex_init(&t->mu, NULL) == 0 ? 0 : TSM_ERR_NOMEM;
}

void
tsm_session_free(struct tsm_session *s)
{
	size_t i;

	if (s == NULL)
		return;
	gp_scp_free(&s->scp);
	for (i = 0; i < s->nops; i++)
		tsm_op_clear(&s->ops[i]);
	tsm_reply_clear(&s->last_reply);
	gp_wipe(s, sizeof(*s));
	free(s);
}

void
tsm_sessions_free(struct tsm_sessions *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		tsm_session_free(t->v[i]);
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

int
tsm_session_new(struct tsm_sessions *t, const char *agent,
    struct tsm_session **out)
{
	struct tsm_session *s, **nv;
	size_t ncap;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TSM_ERR_NOMEM;
	if (new_id(s->id) != 0) {
		free(s);
		return TSM_ERR_NOMEM;
	}
	snprintf(s->agent, sizeof(s->agent), "%s", agent);
	s->busy = 1;
	s->last_ms = tsm_mono_ms();
	pthread_mutex_lock(&t->mu);
	if (t->n == t->cap) {
		ncap = t->cap ? t->cap * 2 : 64;
		if ((nv = realloc(t->v, ncap * sizeof(*nv))) == NULL) {
			pthread_mutex_unlock(&t->mu);
			free(s);
			return TSM_ERR_NOMEM;
		}
		t->v = nv;
		t->cap = ncap;
	}
	t->v[t->n++] = s;
	pthread_mutex_unlock(&t->mu);
	*out = s;
	return 0;
}

/* Under t->mu. */
static ssize_t
find(struct tsm_sessions *t, const char *id)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->v[i]->id, id) == 0)
			return (ssize_t)i;
	return -1;
}

int
tsm_session_take(struct tsm_sessions *t, const char *id, const char *agent,
    struct tsm_session **out)
{
	struct tsm_session *s;
	ssize_t i;
	int r = 0;

	*out = NULL;
	pthread_mutex_lock(&t->mu);
	if ((i = find(t, id)) < 0)
		r = TSM_ERR_NOTFOUND;
	else if (strcmp((s = t->v[i])->agent, agent) != 0)
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
	pthread_mutex_lock(&t->mu);
	s->last_ms = tsm_mono_ms();
	s->busy = 0;
	pthread_mutex_unlock(&t->mu);
}

void
tsm_session_end(struct tsm_sessions *t, struct tsm_session *s)
{
	ssize_t i;

	pthread_mutex_lock(&t->mu);
	if ((i = find(t, s->id)) >= 0)
		t->v[i] = t->v[--t->n];
	pthread_mutex_unlock(&t->mu);
	tsm_session_free(s);
}

size_t
tsm_sessions_expired(struct tsm_sessions *t, int64_t cutoff,
    struct tsm_session **out, size_t cap)
{
	size_t i = 0, n = 0;

	pthread_mutex_lock(&t->mu);
	while (i < t->n && n < cap) {
		if (!t->v[i]->busy && t->v[i]->last_ms < cutoff) {
			out[n] = t->v[i];
			out[n++]->busy = 1;
			t->v[i] = t->v[--t->n];
			continue;
		}
		i++;
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
