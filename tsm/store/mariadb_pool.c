/*
 * MariaDB connections: URL parsing, connecting (optionally creating the
 * database), and a small pool shared by every handle opened on the same
 * URL, so tsmd's threads share a bounded number of server connections.
 * A connection that broke is dropped and reopened on next use, and so is
 * every connection opened before it broke: a lost connection most often
 * means the server restarted or killed them, and a retry must not pick
 * up another dead idle connection.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/mariadb_int.h"

struct my_pool {
	struct my_pool	*next;
	char		 key[1024];
	struct my_url	 url;
	pid_t		 pid;	/* a forked child must not share sockets */
	int		 refs;
	int		 size;
	unsigned	 gen;	/* bumped when a connection is found lost */
	struct my_conn	 conns[MY_POOL_MAX];
	pthread_cond_t	 cond;
};

static pthread_mutex_t pools_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct my_pool *pools;

static int
copy_part(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return TSM_STORE_ERR_URL;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int
parse_query(const char *q, struct my_url *u)
{
	const char *amp;
	size_t n;

	while (q != NULL && *q != '\0') {
		amp = strchr(q, '&');
		n = amp != NULL ? (size_t)(amp - q) : strlen(q);
		if (strncmp(q, "socket=", 7) == 0) {
			if (copy_part(u->socket, sizeof(u->socket), q + 7,
			    n - 7) != 0)
				return TSM_STORE_ERR_URL;
		} else if (strncmp(q, "pool=", 5) == 0)
			u->pool = atoi(q + 5);
		else if (strncmp(q, "create=1", n) == 0 && n == 8)
			u->create = 1;
		else
			return TSM_STORE_ERR_URL;
		q = amp != NULL ? amp + 1 : NULL;
	}
	return 0;
}

int
tsm_my_url_parse(const char *url, struct my_url *u)
{
	const char *p = url + strlen("mariadb://"), *at, *slash, *colon, *q;
	size_t i;

	memset(u, 0, sizeof(*u));
	if ((at = strchr(p, '@')) == NULL || (slash = strchr(at, '/')) == NULL)
		return TSM_STORE_ERR_URL;
	colon = memchr(p, ':', (size_t)(at - p));
	if (copy_part(u->user, sizeof(u->user), p, (size_t)((colon != NULL ?
	    colon : at) - p)) != 0 || (colon != NULL && copy_part(u->pass,
	    sizeof(u->pass), colon + 1, (size_t)(at - colon - 1)) != 0))
		return TSM_STORE_ERR_URL;
	colon = memchr(at, ':', (size_t)(slash - at));
	if (copy_part(u->host, sizeof(u->host), at + 1, (size_t)((colon !=
	    NULL ? colon : slash) - at - 1)) != 0)
		return TSM_STORE_ERR_URL;
	u->port = colon != NULL ? (unsigned)atoi(colon + 1) : 3306;
	q = strchr(slash, '?');
	if (copy_part(u->db, sizeof(u->db), slash + 1, (size_t)((q != NULL ?
	    q : slash + strlen(slash)) - slash - 1)) != 0 || u->db[0] == '\0')
		return TSM_STORE_ERR_URL;
	for (i = 0; u->db[i] != '\0'; i++)	/* an identifier, not SQL */
		if (!(u->db[i] == '_' || (u->db[i] >= '0' && u->db[i] <= '9') ||
		    (u->db[i] >= 'a' && u->db[i] <= 'z') ||
		    (u->db[i] >= 'A' && u->db[i] <= 'Z')))
			return TSM_STORE_ERR_URL;
	u->pool = 4;
	if (q != NULL && parse_query(q + 1, u) != 0)
		return TSM_STORE_ERR_URL;
	if (u->pool < 1 || u->pool > MY_POOL_MAX)
		return TSM_STORE_ERR_URL;
	return 0;
}

static int
session_setup(MYSQL *my, const struct my_url *u)
{
	char sql[128];

	if (u->create) {
		snprintf(sql, sizeof(sql), "CREATE DATABASE IF NOT EXISTS `%s`",
		    u->db);
		if (mysql_real_query(my, sql, strlen(sql)) != 0 ||
		    mysql_select_db(my, u->db) != 0)
			return -1;
	}
	snprintf(sql, sizeof(sql), "SET SESSION TRANSACTION ISOLATION LEVEL "
	    "READ COMMITTED");
	return mysql_real_query(my, sql, strlen(sql)) != 0 ? -1 : 0;
}

int
tsm_my_connect(const struct my_url *u, struct my_conn *c, char *err,
    size_t errlen)
{
	unsigned int timeout = 10;
	my_bool off = 0;

	/* not a memset: busy belongs to the pool, which set it under its lock */
	c->ncache = 0;
	if ((c->my = mysql_init(NULL)) == NULL)
		return TSM_STORE_ERR_NOMEM;
	mysql_options(c->my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(c->my, MYSQL_OPT_RECONNECT, &off);
	mysql_options(c->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	/* CLIENT_FOUND_ROWS: an UPDATE reports the rows it matched, as
	 * SQLite does, so both backends answer "did it apply" alike. */
	if (mysql_real_connect(c->my, u->host, u->user,
	    u->pass[0] ? u->pass : NULL, u->create ? NULL : u->db, u->port,
	    u->socket[0] ? u->socket : NULL, CLIENT_FOUND_ROWS) == NULL ||
	    session_setup(c->my, u) != 0) {
		snprintf(err, errlen, "mariadb: %s", mysql_error(c->my));
		mysql_close(c->my);
		c->my = NULL;
		return TSM_STORE_ERR_CONNECT;
	}
	return 0;
}

void
tsm_my_disconnect(struct my_conn *c)
{
	int i;

	for (i = 0; i < c->ncache; i++)
		mysql_stmt_close(c->cache[i].st);
	c->ncache = 0;
	if (c->my != NULL)
		mysql_close(c->my);
	c->my = NULL;
}

int
tsm_my_pool_get(const char *url, const struct my_url *u, int size,
    struct my_pool **out)
{
	struct my_pool *p;

	pthread_mutex_lock(&pools_mtx);
	for (p = pools; p != NULL; p = p->next)
		if (strcmp(p->key, url) == 0 && p->pid == getpid())
			break;
	if (p == NULL && (p = calloc(1, sizeof(*p))) != NULL) {
		snprintf(p->key, sizeof(p->key), "%s", url);
		p->url = *u;
		p->pid = getpid();
		p->size = size > 0 && size <= MY_POOL_MAX ? size : u->pool;
		pthread_cond_init(&p->cond, NULL);
		p->next = pools;
		pools = p;
	}
	if (p != NULL)
		p->refs++;
	pthread_mutex_unlock(&pools_mtx);
	*out = p;
	return p != NULL ? 0 : TSM_STORE_ERR_NOMEM;
}

void
tsm_my_pool_put(struct my_pool *p)
{
	struct my_pool **pp;
	int i;

	pthread_mutex_lock(&pools_mtx);
	if (--p->refs > 0) {
		pthread_mutex_unlock(&pools_mtx);
		return;
	}
	for (pp = &pools; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	pthread_mutex_unlock(&pools_mtx);
	for (i = 0; i < p->size; i++)
		tsm_my_disconnect(&p->conns[i]);
	pthread_cond_destroy(&p->cond);
	free(p);
}

const struct my_url *
tsm_my_pool_url(const struct my_pool *p)
{
	return &p->url;
}

int
tsm_my_acquire(struct my_pool *p, struct my_conn **out, char *err,
    size_t errlen)
{
	struct my_conn *c = NULL;
	unsigned gen;
	int i, r = 0;

	pthread_mutex_lock(&pools_mtx);
	while (c == NULL) {
		for (i = 0; i < p->size && c == NULL; i++)
			if (!p->conns[i].busy && p->conns[i].my != NULL)
				c = &p->conns[i];
		for (i = 0; i < p->size && c == NULL; i++)
			if (!p->conns[i].busy)
				c = &p->conns[i];
		if (c == NULL)
			pthread_cond_wait(&p->cond, &pools_mtx);
	}
	c->busy = 1;
	gen = p->gen;
	pthread_mutex_unlock(&pools_mtx);
	if (c->my != NULL && c->gen != gen)
		tsm_my_disconnect(c);	/* older than a loss: suspect */
	if (c->my == NULL) {
		if ((r = tsm_my_connect(&p->url, c, err, errlen)) != 0) {
			tsm_my_release(p, c, 1);
			return r;
		}
		c->gen = gen;
	}
	*out = c;
	return 0;
}

void
tsm_my_release(struct my_pool *p, struct my_conn *c, int broken)
{
	if (broken)
		tsm_my_disconnect(c);
	pthread_mutex_lock(&pools_mtx);
	if (broken)
		p->gen++;
	c->busy = 0;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&pools_mtx);
}
