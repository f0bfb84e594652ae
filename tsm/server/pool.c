/*
 * Worker threads: everything that may block (the store, tsm-keyd) runs
 * here, never on an event loop. Each worker owns its store handle and its
 * tsm-keyd connection (a store handle serves one thread at a time). A
 * finished job activates the event its loop gave it; the loop then sends
 * the reply from its own thread.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "keys.h"
#include "server/server_int.h"

static void *
worker_main(void *arg)
{
	struct tsm_worker *w = arg;
	struct tsm_pool *p = &w->srv->pool;
	struct tsm_job *j;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->head == NULL && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if ((j = p->head) == NULL) {	/* stopping, queue empty */
			pthread_mutex_unlock(&p->mu);
			break;
		}
		if ((p->head = j->next) == NULL)
			p->tail = NULL;
		pthread_mutex_unlock(&p->mu);
		j->next = NULL;
		j->run(w, j);
		event_active(j->ev, EV_READ, 0);
	}
	return NULL;
}

static int
worker_open(struct tsm_worker *w, const struct tsm_server_cfg *c)
{
	struct tsm_store_opts so = { c->db_key_file[0] != '\0' ?
	    c->db_key_file : NULL, 0 };
	int r;

	if ((r = tsm_store_open(&w->store, c->db, &so)) != 0) {
		tsm_log(TSM_LOG_ERR, "store.open", "err=\"%s\"",
		    tsm_store_strerror(r));
		return TSM_ERR_STORE;
	}
	if ((r = tsm_store_check_schema(w->store)) != 0) {
		tsm_log(TSM_LOG_ERR, "store.schema", "err=\"%s\" msg=\"%s\"",
		    tsm_store_strerror(r), tsm_store_errmsg(w->store));
		return TSM_ERR_STORE;
	}
	if ((w->keys = calloc(1, sizeof(*w->keys))) == NULL)
		return TSM_ERR_NOMEM;
	keys_init(w->keys, c->keyd, KEYS_TIMEOUT_MS);
	return 0;
}

static void
worker_close(struct tsm_worker *w)
{
	if (w->keys != NULL) {
		keys_close(w->keys);
		free(w->keys);
		w->keys = NULL;
	}
	if (w->store != NULL) {
		tsm_store_close(w->store);
		w->store = NULL;
	}
}

int
tsm_pool_start(struct tsm_pool *p, struct tsm_server *srv, int n)
{
	int i, r;

	memset(p, 0, sizeof(*p));
	if ((p->w = calloc((size_t)n, sizeof(*p->w))) == NULL)
		return TSM_ERR_NOMEM;
	p->nalloc = n;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	for (i = 0; i < n; i++) {
		p->w[i].idx = i;
		p->w[i].srv = srv;
		if ((r = worker_open(&p->w[i], &srv->cfg)) != 0)
			goto fail;
	}
	for (i = 0; i < n; i++) {
		if (pthread_create(&p->w[i].th, NULL, worker_main,
		    &p->w[i]) != 0) {
			r = TSM_ERR_NOMEM;
			goto fail;
		}
		p->n++;
	}
	return 0;
 fail:
	tsm_pool_stop(p);
	return r;
}

void
tsm_pool_submit(struct tsm_pool *p, struct tsm_job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&p->mu);
	if (p->tail != NULL)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* Runs what is queued, then joins and closes every worker. */
void
tsm_pool_stop(struct tsm_pool *p)
{
	int i;

	if (p->w == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->n; i++)
		pthread_join(p->w[i].th, NULL);
	for (i = 0; i < p->nalloc; i++)
		worker_close(&p->w[i]);
	free(p->w);
	p->w = NULL;
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
}
