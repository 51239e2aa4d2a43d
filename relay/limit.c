/* limit.c - token buckets, runs of refusals, and buckets by user name. */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "limit.h"

struct limit_entry {
	struct limit_entry *next;
	struct limit l;
	char name[];
};

static void refill(struct limit *l, const struct limit_rule *rule, int64_t now)
{
	if (!l->at) {
		l->tokens = rule->burst;
	} else if (now > l->at) {
		l->tokens += (double)(now - l->at) * rule->rate / 1000.0;
		if (l->tokens > rule->burst)
			l->tokens = rule->burst;
	}
	if (now > l->at)
		l->at = now;
}

int limit_take(struct limit *l, const struct limit_rule *rule, double cost, int64_t now)
{
	refill(l, rule, now);
	if (l->tokens < cost)
		return 0;
	l->tokens -= cost;
	return 1;
}

int limit_full(const struct limit *l, const struct limit_rule *rule, int64_t now)
{
	return !l->at || l->tokens + (double)(now - l->at) * rule->rate / 1000.0 >= rule->burst;
}

int64_t limit_streak_refused(struct limit_streak *s, int64_t now)
{
	if (!s->last || now - s->last >= LIMIT_PAUSE_MS)
		s->since = now;
	s->last = now;
	return now - s->since;
}

struct limit *limit_table_get(struct limit_table *t, const char *name,
			      const struct limit_rule *rule, int64_t now)
{
	struct limit_entry **pp = &t->b[hash_fnv1a(name) % LIMIT_TABLE_BUCKETS], *e, *found = NULL;
	size_t n;

	while ((e = *pp)) {
		if (!found && !strcmp(e->name, name)) {
			found = e;
		} else if (limit_full(&e->l, rule, now)) {
			*pp = e->next;
			free(e);
			continue;
		}
		pp = &e->next;
	}
	if (found)
		return &found->l;
	n = strlen(name);
	e = calloc(1, sizeof(*e) + n + 1);
	if (!e)
		return NULL;
	memcpy(e->name, name, n + 1);
	e->next = t->b[hash_fnv1a(name) % LIMIT_TABLE_BUCKETS];
	t->b[hash_fnv1a(name) % LIMIT_TABLE_BUCKETS] = e;
	return &e->l;
}

void limit_table_free(struct limit_table *t)
{
	struct limit_entry *e;
	size_t i;

	for (i = 0; i < LIMIT_TABLE_BUCKETS; i++) {
		while ((e = t->b[i])) {
			t->b[i] = e->next;
			free(e);
		}
	}
}
