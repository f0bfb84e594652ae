/*
 * What the store commands of tsmctl share (cmd_store.c defines them;
 * cmd_store_inventory.c and cmd_op.c use them): option parsing, opening
 * the store named by --db, error and JSON output.
 */
#ifndef TSMCTL_CMD_STORE_H
#define TSMCTL_CMD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "store/store.h"

struct tsmctl_st {
	const char	*db;
	const char	*key_file;
	int		 json;
	const char	*pos[4];
	int		 npos;
};

struct tsmctl_st_flag {
	const char	*name;
	const char	**val;	/* takes a value */
	int		*on;	/* boolean */
};

int	tsmctl_st_parse(int, char **, struct tsmctl_st *,
	    const struct tsmctl_st_flag *);
int	tsmctl_st_open(const struct tsmctl_st *, int check,
	    struct tsm_store **);
int	tsmctl_st_fail(struct tsm_store *, const char *, int);
void	tsmctl_st_json(cJSON *);
void	tsmctl_st_time(int64_t, char *, size_t);

#endif
