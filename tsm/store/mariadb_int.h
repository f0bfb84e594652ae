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
#define MY_PARAM_MAX	4096	/* values one statement binds */

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
	unsigned	 gen;	/* pool generation when connected */
};

struct my_pool;

/* Result columns of one prepared statement, bound for fetching. */
#define MY_RESULT_MAX	32
struct my_result {
	MYSQL_BIND	 b[MY_RESULT_MAX];
	int64_t		 ints[MY_RESULT_MAX];
	unsigned long	 len[MY_RESULT_MAX];
	my_bool		 null[MY_RESULT_MAX];
	char		*buf[MY_RESULT_MAX];
	struct tsm_val	 v[MY_RESULT_MAX];
	unsigned int	 n;
};

/* Shared by mariadb.c and mariadb_async.c. */
int	tsm_my_gone(unsigned int);
int	tsm_my_map_err(char *, size_t, unsigned int, const char *);
void	tsm_my_bind_params(MYSQL_BIND *, const struct tsm_val *, size_t);
int	tsm_my_bind_result(struct my_result *, MYSQL_RES *);
void	tsm_my_row_vals(struct my_result *, MYSQL_RES *);
void	tsm_my_result_free(struct my_result *);

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
