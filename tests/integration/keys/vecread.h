/* A minimal reader of ../shared/vectors .vec files (FORMAT.md). */
#ifndef VECREAD_H
#define VECREAD_H

#include <stddef.h>
#include <stdint.h>

struct tvec {
	char	 name[128];
	size_t	 n;
	char	*k[96];
	char	*v[96];
};

/* Calls fn for every vector of the file; returns the number of vectors
 * or -1 when the file cannot be read. */
int	tvec_each(const char *path, void (*fn)(struct tvec *, void *),
	    void *arg);
const char *tvec_get(const struct tvec *, const char *key);
/* Hex value of key into out; returns its length or -1 when absent. */
long	tvec_hex(const struct tvec *, const char *key, uint8_t *out,
	    size_t cap);
/* The vectors directory: $TSM_VECTORS or TSM_VECTORS_DIR. */
const char *tvec_dir(void);

#endif
