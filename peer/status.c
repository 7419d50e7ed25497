#include "peer/status.h"

#include "lib/addr.h"
#include "lib/json.h"
#include "peer/http.h"
#include "peer/node.h"

static const char *state_name(const struct node *n)
{
	if (n->leaving)
		return "leaving";
	if (n->ov.buf.playing)
		return "playing";
	return n->have_stream ? "buffering" : "joining";
}

static void buffer_json(struct json *j, const struct buffer *b)
{
	json_key(j, "buffer");
	json_obj_begin(j);
	json_ku64(j, "capacity", b->capacity);
	json_ku64(j, "newest", b->newest);
	json_ku64(j, "next_due", b->next_due);
	json_ku64(j, "held_ahead", b->playing ? buffer_run_from(b, b->next_due) : 0);
	json_obj_end(j);
}

static void partners_json(struct json *j, const struct overlay *ov)
{
	json_key(j, "partners");
	json_arr_begin(j);
	for (int i = 0; i < ov->np; i++) {
		char ip[16];
		addr_ip_str(ov->p[i].addr.ip, ip);
		json_obj_begin(j);
		json_ku64(j, "id", ov->p[i].addr.id);
		json_kstr(j, "ip", ip);
		json_kbool(j, "source", ov->p[i].is_source);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void neighbours_json(struct json *j, const struct mesh *m)
{
	json_key(j, "neighbours");
	json_arr_begin(j);
	for (int i = 0; i < m->n; i++) {
		json_obj_begin(j);
		json_ku64(j, "id", m->nb[i].addr.id);
		json_ku64(j, "delay_us", m->nb[i].delay_us);
		json_obj_end(j);
	}
	json_arr_end(j);
}

char *status_json(const struct node *n)
{
	const struct buffer *b = &n->ov.buf;
	struct json j;
	json_init(&j, true);
	json_obj_begin(&j);
	json_ku64(&j, "id", n->self.id);
	json_kstr(&j, "role", n->cfg->role == ROLE_SOURCE ? "source" : "peer");
	json_kstr(&j, "mode", n->policy->name);
	json_kstr(&j, "stream", n->ov.name);
	json_ku64(&j, "stream_id", n->ov.stream);
	json_kstr(&j, "state", state_name(n));
	buffer_json(&j, b);
	json_ku64(&j, "received", b->st.received);
	json_ku64(&j, "due", b->st.due);
	json_ku64(&j, "on_time", b->st.on_time);
	json_ku64(&j, "out_of_window", b->st.out_of_window);
	json_ku64(&j, "maps_dropped", n->ov.maps_dropped);
	json_kdouble(&j, "continuity", b->st.due ? (double)b->st.on_time / (double)b->st.due : 0.0,
	             6);
	json_ku64(&j, "last_delay_us", overlay_last_delay(&n->ov, real_us()));
	json_ku64(&j, "http_clients", n->http ? http_clients(n->http) : 0);
	/* Push and relay children and the key-node connections they hold:
	 * the two must be equal. */
	json_ku64(&j, "push_children", (uint64_t)n->inter.nchild);
	json_ku64(&j, "relays", (uint64_t)n->inter.nrelay);
	json_ku64(&j, "children", (uint64_t)inter_children(&n->inter));
	json_ku64(&j, "keynode_used", (uint64_t)inter_slots_used(&n->inter));
	/* The push paths the peer receives by: two when each carries half. */
	json_ku64(&j, "active_paths", (uint64_t)(n->inter.have_active + n->inter.second.have));
	int halves = inter_halves_free(&n->inter);
	json_ku64(&j, "halves_free", (uint64_t)(halves > 0 ? halves : 0));
	partners_json(&j, &n->ov);
	neighbours_json(&j, &n->mesh);
	json_obj_end(&j);
	return json_finish(&j);
}
