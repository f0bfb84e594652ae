/*
 * The server URL: https://host[:port][/path] only. IPv6 literals go in
 * brackets. Without a path (or with "/") the contract's endpoint is used.
 */
#include <string.h>

#include "agent_int.h"

static int
copy(char *dst, size_t cap, const char *src, size_t n)
{
	if (n == 0 || n >= cap)
		return AGENT_ERR_CONFIG;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

static int
port_ok(const char *p, size_t n)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

int
agent_url_parse(const char *s, struct agent_url *u)
{
	const char *h, *end, *colon = NULL, *slash;
	size_t hn;
	int r;

	memset(u, 0, sizeof(*u));
	if (s == NULL || strncmp(s, "https://", 8) != 0)
		return AGENT_ERR_CONFIG;
	h = s + 8;
	slash = strchr(h, '/');
	end = slash != NULL ? slash : h + strlen(h);
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));

		if (rb == NULL)
			return AGENT_ERR_CONFIG;
		if ((r = copy(u->host, sizeof(u->host), h + 1,
		    (size_t)(rb - h - 1))) != 0)
			return r;
		if (rb + 1 < end && rb[1] != ':')
			return AGENT_ERR_CONFIG;
		colon = rb + 1 < end ? rb + 1 : NULL;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		hn = (size_t)((colon != NULL ? colon : end) - h);
		if ((r = copy(u->host, sizeof(u->host), h, hn)) != 0)
			return r;
	}
	if (colon != NULL) {
		if (!port_ok(colon + 1, (size_t)(end - colon - 1)))
			return AGENT_ERR_CONFIG;
		copy(u->port, sizeof(u->port), colon + 1,
		    (size_t)(end - colon - 1));
	} else
		strcpy(u->port, "443");
	if (slash == NULL || strcmp(slash, "/") == 0)
		slash = AGENT_PATH_DEFAULT;
	if (strpbrk(slash, " \r\n\t") != NULL)
		return AGENT_ERR_CONFIG;
	return copy(u->path, sizeof(u->path), slash, strlen(slash));
}
