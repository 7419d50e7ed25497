#include "peer/mesh.h"

#include <string.h>

/* a is clearly slower than b: by 1 ms and 10%, so that clock and queueing
 * noise cannot make links flap. */
static int clearly_slower(uint32_t a, uint32_t b)
{
	uint32_t margin = b / 10 > 1000 ? b / 10 : 1000;
	return (uint64_t)a > (uint64_t)b + margin;
}

enum ltm_verdict mesh_ltm_decide(uint32_t d_sn, uint32_t d_np, int s_is_neighbour, int have_sp,
                                 uint32_t d_sp)
{
	if (!s_is_neighbour) {
		if (!have_sp)
			return LTM_PROBE_S;
		return clearly_slower(d_np, d_sp) ? LTM_REPLACE_N : LTM_KEEP;
	}
	if (!have_sp)
		return LTM_KEEP;
	/* Cutting N-P keeps P connected to N through S: only the slowest link
	 * of the triangle may go. */
	return clearly_slower(d_np, d_sp) && clearly_slower(d_np, d_sn) ? LTM_CUT_NP : LTM_KEEP;
}

void mesh_init(struct mesh *m, int target, int max)
{
	memset(m, 0, sizeof(*m));
	m->target = target;
	m->max = max < target ? target : max > MESH_MAX ? MESH_MAX : max;
	m->next_msg_id = 1;
}

struct mesh_nb *mesh_find(struct mesh *m, uint32_t id)
{
	for (int i = 0; i < m->n; i++)
		if (m->nb[i].addr.id == id)
			return &m->nb[i];
	return NULL;
}

struct mesh_nb *mesh_add(struct mesh *m, const struct wire_addr *a, uint16_t stream, uint64_t now)
{
	struct mesh_nb *nb = mesh_find(m, a->id);
	if (!nb) {
		if (m->n >= m->max)
			return NULL;
		nb = &m->nb[m->n++];
		memset(nb, 0, sizeof(*nb));
	}
	nb->addr = *a;
	if (stream)
		nb->stream = stream;
	nb->last_heard_us = now;
	return nb;
}

void mesh_del(struct mesh *m, uint32_t id)
{
	struct mesh_nb *nb = mesh_find(m, id);
	if (nb)
		*nb = m->nb[--m->n];
}

double mesh_mean_delay_us(const struct mesh *m, int *count)
{
	double sum = 0;
	int k = 0;
	for (int i = 0; i < m->n; i++) {
		if (m->nb[i].have_delay) {
			sum += m->nb[i].delay_us;
			k++;
		}
	}
	if (count)
		*count = k;
	return k ? sum / k : 0;
}

int mesh_first_seen(struct mesh *m, uint32_t src, uint32_t msg_id)
{
	uint64_t key = (uint64_t)src << 32 | msg_id;
	for (int i = 0; i < MESH_SEEN; i++)
		if (m->seen[i] == key)
			return 0;
	m->seen[m->seen_next] = key;
	m->seen_next = (m->seen_next + 1) % MESH_SEEN;
	return 1;
}

void mesh_pending_add(struct mesh *m, const struct wire_addr *s, uint32_t n_id, uint32_t d_np,
                      uint64_t now)
{
	for (int i = 0; i < m->npend; i++) {
		if (m->pend[i].s.id == s->id) {
			if (d_np > m->pend[i].d_np_us) {
				/* Judge S against the slowest N it could replace. */
				m->pend[i].n_id = n_id;
				m->pend[i].d_np_us = d_np;
			}
			return;
		}
	}
	if (m->npend == MESH_PENDING) {
		memmove(&m->pend[0], &m->pend[1], sizeof(m->pend[0]) * (MESH_PENDING - 1));
		m->npend--;
	}
	m->pend[m->npend++] = (struct mesh_pending){*s, n_id, d_np, now};
}

int mesh_pending_take(struct mesh *m, uint32_t s_id, struct mesh_pending *out)
{
	for (int i = 0; i < m->npend; i++) {
		if (m->pend[i].s.id != s_id)
			continue;
		*out = m->pend[i];
		memmove(&m->pend[i], &m->pend[i + 1],
		        sizeof(m->pend[0]) * (size_t)(--m->npend - i));
		return 1;
	}
	return 0;
}
