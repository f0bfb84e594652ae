/*
 * Internal to the MariaDB backend (mariadb.c, mariadb_pool.c): pooled
 * connections with their prepared statement caches.
 */
#ifndef TSM_STORE_MARIADB_INT_H
#define TSM_STORE_MARIADB_INT_H

#include <mysql.h>

#include "store/store_int.h"

#define MY_STMT_CACHE	64
#define MY_POOL_MAX	32

struct my_url {
	char	user[128];
	char	pass[128];
	char	host[256];
	char	db[65];
	char	socket[512];
	unsigned port;
	int	pool;
	int	create;
};

struct my_conn {
	MYSQL		*my;
	struct {
		const char	*sql;
		MYSQL_STMT	*st;
	}		 cache[MY_STMT_CACHE];
	int		 ncache;
	int		 busy;
};

struct my_pool;

int	tsm_my_url_parse(const char *, struct my_url *);
int	tsm_my_connect(const struct my_url *, struct my_conn *, char *,
	    size_t);
void	tsm_my_disconnect(struct my_conn *);
/* Shared pools, one per URL, reference counted. */
int	tsm_my_pool_get(const char *url, const struct my_url *, int size,
	    struct my_pool **);
void	tsm_my_pool_put(struct my_pool *);
int	tsm_my_acquire(struct my_pool *, struct my_conn **, char *, size_t);
void	tsm_my_release(struct my_pool *, struct my_conn *, int broken);
const struct my_url *tsm_my_pool_url(const struct my_pool *);

#endif
