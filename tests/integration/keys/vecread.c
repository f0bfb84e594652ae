/* A minimal .vec reader for the keys tests (format 1, FORMAT.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gp/buf.h"
#include "vecread.h"

static void
clear(struct tvec *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->k[i]);
		free(t->v[i]);
	}
	memset(t, 0, sizeof(*t));
}

int
tvec_each(const char *path, void (*fn)(struct tvec *, void *), void *arg)
{
	static struct tvec t;
	char *line = NULL, *eq;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int count = 0, open_ = 0;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	memset(&t, 0, sizeof(t));
	while ((len = getline(&line, &cap, f)) >= 0) {
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (line[0] == '[') {
			if (open_) {
				fn(&t, arg);
				count++;
			}
			clear(&t);
			snprintf(t.name, sizeof(t.name), "%.*s",
			    (int)(len > 2 ? len - 2 : 0), line + 1);
			open_ = 1;
			continue;
		}
		if ((eq = strchr(line, '=')) == NULL || t.n == 96)
			continue;
		*eq = '\0';
		t.k[t.n] = strdup(line);
		t.v[t.n] = strdup(eq + 1);
		t.n++;
	}
	if (open_) {
		fn(&t, arg);
		count++;
	}
	clear(&t);
	free(line);
	fclose(f);
	return count;
}

const char *
tvec_get(const struct tvec *t, const char *key)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->k[i], key) == 0)
			return t->v[i];
	return NULL;
}

long
tvec_hex(const struct tvec *t, const char *key, uint8_t *out, size_t cap)
{
	const char *v = tvec_get(t, key);
	size_t n;

	if (v == NULL || gp_hex_decode(v, out, cap, &n) != 0)
		return -1;
	return (long)n;
}

const char *
tvec_dir(void)
{
	const char *d = getenv("TSM_VECTORS");

	return d != NULL && *d != '\0' ? d : TSM_VECTORS_DIR;
}
