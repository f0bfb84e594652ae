/*
 * tsmd configuration: defaults, "key = value" settings from a file or the
 * command line, and the consistency check run before anything starts.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

#define CFG_LINE_MAX	2048

void
tsm_server_cfg_defaults(struct tsm_server_cfg *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen, sizeof(c->listen), "127.0.0.1:8443");
	snprintf(c->key_label, sizeof(c->key_label), "isd");
	c->loops = 0;
	c->workers = 4;
	c->session_timeout_ms = 60 * 1000;
	c->drain_timeout_ms = 30 * 1000;
	c->body_max = 1024 * 1024;
	c->scp02_i = 0x55;
	c->precompute = 1;
	c->log_level = TSM_LOG_INFO;
	c->load_block = 239;	/* fits level 33 with padding and MAC */
}

enum cfg_type { CFG_STR, CFG_INT, CFG_SIZE, CFG_HEX, CFG_LEVEL };

struct cfg_key {
	const char	*name;
	enum cfg_type	 type;
	size_t		 off;
	size_t		 len;	/* strings: buffer size */
	long		 min, max;
};

#define S(f)	CFG_STR, offsetof(struct tsm_server_cfg, f), \
		    sizeof(((struct tsm_server_cfg *)0)->f), 0, 0
#define I(f, lo, hi)	CFG_INT, offsetof(struct tsm_server_cfg, f), 0, lo, hi

static const struct cfg_key keys[] = {
	{ "listen", S(listen) },
	{ "metrics_listen", S(metrics_listen) },
	{ "port_file", S(port_file) },
	{ "tls_cert", S(tls_cert) },
	{ "tls_key", S(tls_key) },
	{ "agent_ca", S(agent_ca) },
	{ "agent_crl", S(agent_crl) },
	{ "db", S(db) },
	{ "db_key_file", S(db_key_file) },
	{ "keyd", S(keyd) },
	{ "key_label", S(key_label) },
	{ "transport_label", S(transport_label) },
	{ "loops", I(loops, 0, 256) },
	{ "workers", I(workers, 1, 256) },
	{ "session_timeout_ms", I(session_timeout_ms, 100, 3600000) },
	{ "drain_timeout_ms", I(drain_timeout_ms, 0, 3600000) },
	{ "body_max", CFG_SIZE, offsetof(struct tsm_server_cfg, body_max), 0,
	    1024, 64 * 1024 * 1024 },
	{ "load_block", CFG_SIZE, offsetof(struct tsm_server_cfg, load_block),
	    0, 16, 239 },
	{ "scp02_i", CFG_HEX, offsetof(struct tsm_server_cfg, scp02_i), 0,
	    0, 0xFF },
	{ "precompute", I(precompute, 0, 1) },
	{ "log_level", CFG_LEVEL, offsetof(struct tsm_server_cfg, log_level),
	    0, 0, 3 },
};

static int
parse_long(const char *v, int base, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(v, &end, base);
	return errno != 0 || end == v || *end != '\0' ? -1 : 0;
}

static int
set_level(const char *v, int *out)
{
	static const char *const names[] = { "error", "warn", "info",
	    "debug" };
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return 0;
		}
	return -1;
}

int
tsm_server_cfg_set(struct tsm_server_cfg *c, const char *key,
    const char *value, char *err, size_t errlen)
{
	const struct cfg_key *k = NULL;
	char *base = (char *)c;
	size_t i;
	long n;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, key) == 0)
			k = &keys[i];
	if (k == NULL) {
		snprintf(err, errlen, "unknown setting %s", key);
		return TSM_ERR_INVAL;
	}
	switch (k->type) {
	case CFG_STR:
		if (strlen(value) >= k->len)
			goto bad;
		memcpy(base + k->off, value, strlen(value) + 1);
		return 0;
	case CFG_LEVEL:
		if (set_level(value, (int *)(void *)(base + k->off)) != 0)
			goto bad;
		return 0;
	case CFG_INT:
	case CFG_HEX:
	case CFG_SIZE:
		if (parse_long(value, k->type == CFG_HEX ? 16 : 10, &n) != 0 ||
		    n < k->min || n > k->max)
			goto bad;
		if (k->type == CFG_SIZE)
			*(size_t *)(void *)(base + k->off) = (size_t)n;
		else
			*(int *)(void *)(base + k->off) = (int)n;
		return 0;
	}
 bad:
	snprintf(err, errlen, "bad value for %s", key);
	return TSM_ERR_INVAL;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
tsm_server_cfg_load(struct tsm_server_cfg *c, const char *path, char *err,
    size_t errlen)
{
	char line[CFG_LINE_MAX], sub[256], *k, *v, *eq;
	unsigned lineno = 0;
	FILE *f;
	int r = 0;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return TSM_ERR_IO;
	}
	while (r == 0 && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path,
			    lineno);
			r = TSM_ERR_INVAL;
			break;
		}
		line[strcspn(line, "#")] = '\0';
		k = trim(line);
		if (*k == '\0')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			snprintf(err, errlen, "%s:%u: expected key = value",
			    path, lineno);
			r = TSM_ERR_INVAL;
			break;
		}
		*eq = '\0';
		k = trim(k);
		v = trim(eq + 1);
		if ((r = tsm_server_cfg_set(c, k, v, sub, sizeof(sub))) != 0)
			snprintf(err, errlen, "%s:%u: %s", path, lineno, sub);
	}
	fclose(f);
	return r;
}

int
tsm_server_cfg_check(const struct tsm_server_cfg *c, char *err,
    size_t errlen)
{
	const char *missing = NULL;

	if (c->tls_cert[0] == '\0')
		missing = "tls_cert";
	else if (c->tls_key[0] == '\0')
		missing = "tls_key";
	else if (c->agent_ca[0] == '\0')
		missing = "agent_ca";
	else if (c->db[0] == '\0')
		missing = "db";
	else if (c->keyd[0] == '\0')
		missing = "keyd";
	else if (c->listen[0] == '\0')
		missing = "listen";
	if (missing != NULL) {
		snprintf(err, errlen, "%s is not set", missing);
		return TSM_ERR_INVAL;
	}
	return 0;
}
