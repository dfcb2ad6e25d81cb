/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * struct sip2_msg: a message as data.  Variable fields stay in order, with
 * repeats and unknown ids, because the journal keeps what the ILS said.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "sip2/sip2.h"
#include "util/util.h"

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

struct sip2_msg *sip2_msg_new(const char *id)
{
	if (!id || !is_digit(id[0]) || !is_digit(id[1]) || id[2])
		return NULL;
	struct sip2_msg *m = xcalloc(1, sizeof(*m));
	memcpy(m->id, id, 3);
	m->spec = sip2_spec_find(id);
	if (m->spec && m->spec->n_fixed)
		m->fixed = xcalloc(m->spec->n_fixed, sizeof(char *));
	m->seq = -1;
	return m;
}

void sip2_msg_free(struct sip2_msg *m)
{
	if (!m)
		return;
	if (m->spec)
		for (unsigned i = 0; i < m->spec->n_fixed; i++)
			free(m->fixed[i]);
	free(m->fixed);
	for (size_t i = 0; i < m->n_fields; i++)
		free(m->fields[i].value);
	free(m->fields);
	free(m->body);
	free(m);
}

static int fixed_index(const struct sip2_msg *m, const char *name)
{
	if (!m->spec)
		return -ENOENT;
	for (unsigned i = 0; i < m->spec->n_fixed; i++)
		if (strcmp(m->spec->fixed[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

int sip2_msg_set_fixed(struct sip2_msg *m, const char *name, const char *value)
{
	int i = fixed_index(m, name);
	if (i < 0)
		return i;
	/* fixed fields are ASCII on every ILS; length is in bytes */
	if (strlen(value) != m->spec->fixed[i].len)
		return -EINVAL;
	free(m->fixed[i]);
	m->fixed[i] = xstrdup(value);
	return 0;
}

const char *sip2_msg_fixed(const struct sip2_msg *m, const char *name)
{
	int i = fixed_index(m, name);
	return i < 0 ? NULL : m->fixed[i];
}

static void add_field(struct sip2_msg *m, const char *fid, const char *value, size_t len)
{
	if (m->n_fields == m->cap_fields) {
		m->cap_fields = m->cap_fields ? m->cap_fields * 2 : 8;
		m->fields = xrealloc(m->fields, m->cap_fields * sizeof(*m->fields));
	}
	struct sip2_field *f = &m->fields[m->n_fields++];
	f->id[0] = fid[0];
	f->id[1] = fid[1];
	f->id[2] = 0;
	f->value = xcalloc(1, len + 1);
	memcpy(f->value, value, len);
}

int sip2_msg_add(struct sip2_msg *m, const char *fid, const char *value)
{
	if (!fid || strlen(fid) != 2 || !value)
		return -EINVAL;
	add_field(m, fid, value, strlen(value));
	return 0;
}

void sip2_msg_add_n(struct sip2_msg *m, const char *fid, const char *value, size_t len)
{
	add_field(m, fid, value, len);
}

const char *sip2_msg_get_nth(const struct sip2_msg *m, const char *fid, size_t n)
{
	for (size_t i = 0; i < m->n_fields; i++)
		if (m->fields[i].id[0] == fid[0] && m->fields[i].id[1] == fid[1]) {
			if (n == 0)
				return m->fields[i].value;
			n--;
		}
	return NULL;
}

const char *sip2_msg_get(const struct sip2_msg *m, const char *fid)
{
	return sip2_msg_get_nth(m, fid, 0);
}
