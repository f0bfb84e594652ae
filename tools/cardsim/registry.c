/*
 * The card registry: AIDs, load files, instances, and the memory they
 * use. Lookups are linear: a card holds a few dozen entries.
 */
#include <stdio.h>
#include <string.h>

#include "sim_int.h"

int
sim_aid_set(struct sim_aid *a, const uint8_t *p, size_t n)
{
	if (p == NULL || n < 5 || n > 16)
		return -1;
	a->len = (uint8_t)n;
	memcpy(a->b, p, n);
	return 0;
}

int
sim_aid_eq(const struct sim_aid *a, const uint8_t *p, size_t n)
{
	return a->len == n && n > 0 && memcmp(a->b, p, n) == 0;
}

int
sim_aid_same(const struct sim_aid *a, const struct sim_aid *b)
{
	return sim_aid_eq(a, b->b, b->len);
}

struct sim_elf *
sim_elf_find(struct sim_state *st, const uint8_t *p, size_t n)
{
	size_t k;

	for (k = 0; k < st->nelf; k++)
		if (sim_aid_eq(&st->elf[k].aid, p, n))
			return &st->elf[k];
	return NULL;
}

struct sim_app *
sim_app_find(struct sim_state *st, const uint8_t *p, size_t n)
{
	size_t k;

	for (k = 0; k < st->napp; k++)
		if (sim_aid_eq(&st->app[k].aid, p, n))
			return &st->app[k];
	return NULL;
}

/* An AID names one thing only: the ISD, a load file or an instance. */
int
sim_aid_in_use(struct sim_state *st, const uint8_t *p, size_t n)
{
	return sim_aid_eq(&st->isd, p, n) || sim_elf_find(st, p, n) != NULL ||
	    sim_app_find(st, p, n) != NULL;
}

size_t
sim_mem_used(const struct sim_state *st)
{
	size_t k, used = 0;

	for (k = 0; k < st->nelf; k++)
		used += st->elf[k].size;
	for (k = 0; k < st->napp; k++)
		used += st->app[k].size;
	return used;
}

size_t
sim_mem_free(const struct sim_state *st)
{
	size_t used = sim_mem_used(st);

	return used >= st->mem_total ? 0 : st->mem_total - used;
}

void
sim_app_remove(struct sim_state *st, struct sim_app *a)
{
	size_t k = (size_t)(a - st->app);

	memmove(&st->app[k], &st->app[k + 1],
	    (st->napp - k - 1) * sizeof(st->app[0]));
	st->napp--;
	memset(&st->app[st->napp], 0, sizeof(st->app[0]));
}

void
sim_elf_remove(struct sim_state *st, struct sim_elf *e)
{
	size_t k = (size_t)(e - st->elf);

	memmove(&st->elf[k], &st->elf[k + 1],
	    (st->nelf - k - 1) * sizeof(st->elf[0]));
	st->nelf--;
	memset(&st->elf[st->nelf], 0, sizeof(st->elf[0]));
}

size_t
sim_elf_instances(const struct sim_state *st, const struct sim_elf *e)
{
	size_t k, n = 0;

	for (k = 0; k < st->napp; k++)
		n += sim_aid_same(&st->app[k].elf, &e->aid);
	return n;
}

/* 1 when another load file imports e. */
int
sim_elf_imported(const struct sim_state *st, const struct sim_elf *e)
{
	size_t k, i;

	for (k = 0; k < st->nelf; k++)
		for (i = 0; i < st->elf[k].nimports; i++)
			if (sim_aid_same(&st->elf[k].imports[i], &e->aid))
				return 1;
	return 0;
}

static int
check_app(const struct sim_state *st, const struct sim_app *a, char *why,
    size_t n)
{
	struct sim_state *w = (struct sim_state *)(uintptr_t)st;
	struct sim_elf *e = sim_elf_find(w, a->elf.b, a->elf.len);
	size_t k;

	if (e == NULL) {
		snprintf(why, n, "instance without its load file");
		return -1;
	}
	for (k = 0; k < e->nmods && !sim_aid_same(&e->mods[k], &a->mod); k++)
		;
	if (k == e->nmods) {
		snprintf(why, n, "instance of a module its file lacks");
		return -1;
	}
	if (a->size < SIM_APP_BASE + a->data_len) {
		snprintf(why, n, "instance charged less than its data");
		return -1;
	}
	if (!sim_aid_same(&a->sd, &st->isd) &&
	    sim_app_find(w, a->sd.b, a->sd.len) == NULL) {
		snprintf(why, n, "instance of a missing security domain");
		return -1;
	}
	return 0;
}

/* What GP requires after any power cut: every reference resolves, no AID
 * twice, and the memory adds up. */
int
sim_registry_check(const struct sim_state *st, char *why, size_t n)
{
	struct sim_state *w = (struct sim_state *)(uintptr_t)st;
	size_t k, j;

	for (k = 0; k < st->napp; k++) {
		if (check_app(st, &st->app[k], why, n) != 0)
			return SIM_ERR_INCONSISTENT;
		for (j = 0; j < k; j++)
			if (sim_aid_same(&st->app[j].aid, &st->app[k].aid))
				goto dup;
	}
	for (k = 0; k < st->nelf; k++) {
		if (sim_app_find(w, st->elf[k].aid.b, st->elf[k].aid.len))
			goto dup;
		for (j = 0; j < k; j++)
			if (sim_aid_same(&st->elf[j].aid, &st->elf[k].aid))
				goto dup;
	}
	if (sim_mem_used(st) > st->mem_total) {
		snprintf(why, n, "more memory used than the card has");
		return SIM_ERR_INCONSISTENT;
	}
	return 0;
 dup:
	snprintf(why, n, "an AID registered twice");
	return SIM_ERR_INCONSISTENT;
}
