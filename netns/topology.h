/* Physical topology: routers joined by undirected links with a one-way delay,
 * hosts attached to routers through an access delay, and the host-to-host
 * delay matrix the link model realizes (access + shortest router path +
 * access). Pure logic: files are the only input and output, every random
 * choice comes from a seeded struct rng, so a seed fully determines a result.
 *
 * Functions that can fail return 0 or -1 and put one line in err (what was
 * attempted, on what, why; "file:line: " first when a file is at fault).
 * err may be NULL.
 */
#ifndef ANYSEE_TOPOLOGY_H
#define ANYSEE_TOPOLOGY_H

#include <stddef.h>
#include <stdint.h>

struct topo;

/* A link between routers a < b. Parallel links are merged on insertion. */
struct topo_link {
	uint32_t a, b;
	uint32_t delay_us;
	uint64_t bps; /* nominal capacity from the source file; 0 = unknown */
};

struct topo_degree {
	uint32_t min, max;
	double mean;
};

/* How a distance turns into a link delay: distance / speed + hop_us, the
 * latter standing for the router's processing and queueing. */
struct topo_delay {
	double km_per_s; /* propagation speed, about 200000 in fibre */
	uint32_t hop_us;
};

#define TOPO_FIBRE_KM_PER_S 200000.0
#define TOPO_DEFAULT_HOP_US 100u
#define TOPO_DEFAULT_ACCESS_US 1000u
#define TOPO_UNREACHABLE UINT64_MAX

/* --- graph ---------------------------------------------------------------- */

/* nrouters routers without links; NULL when out of memory. */
struct topo *topo_new(uint32_t nrouters);
void topo_free(struct topo *t); /* safe on NULL */

/* Link a and b (a != b). Linking an already linked pair keeps the smaller
 * delay and adds the capacities, as for the parallel links of a multigraph. */
int topo_add_link(struct topo *t, uint32_t a, uint32_t b, uint32_t delay_us, uint64_t bps,
                  char *err, size_t errlen);

uint32_t topo_nrouters(const struct topo *t);
/* All links, in insertion order; *n receives their count. */
const struct topo_link *topo_links(const struct topo *t, size_t *n);
uint32_t topo_degree(const struct topo *t, uint32_t router);
void topo_degree_stats(const struct topo *t, struct topo_degree *out);
/* 1 if every router reaches every other, 0 if not, -1 when out of memory. */
int topo_connected(const struct topo *t);
/* Label from the source file, or NULL. */
const char *topo_router_label(const struct topo *t, uint32_t router);
/* First router whose label is label (case-insensitive); 0, or -1 if none. */
int topo_router_find(const struct topo *t, const char *label, uint32_t *router);

/* --- generators in the manner of BRITE ------------------------------------- */

enum topo_model {
	/* Routers join one at a time; each new one links to k existing routers
	 * drawn without replacement with probability proportional to
	 * alpha * exp(-d / (beta * L)), L the plane's diagonal (BRITE's
	 * incremental Waxman). alpha scales every candidate alike, so only
	 * beta shapes this model; avg_degree sets the link count. */
	TOPO_WAXMAN,
	/* Classic Waxman: every pair linked with that probability, so alpha and
	 * beta set the degree and avg_degree is ignored. */
	TOPO_WAXMAN_PAIRS,
	/* Barabasi-Albert: each new router links to k existing routers drawn
	 * with probability proportional to their degree. */
	TOPO_BA,
};

struct topo_gen {
	enum topo_model model;
	uint32_t nrouters;
	/* Mean degree wanted (>= 2): each new router makes avg_degree / 2
	 * links, rounded up or down at random so that fractions average out
	 * (the paper's "5000 routers, degree 4 to 10" is avg_degree 4..10). */
	double avg_degree;
	double alpha, beta;
	double plane;       /* routers placed uniformly on plane x plane units */
	double km_per_unit; /* link delay from Euclidean distance * km_per_unit */
	struct topo_delay delay;
	uint64_t seed;
};

/* 5000 routers, incremental Waxman, average degree 4, BRITE's alpha 0.15 and
 * beta 0.2, a 1000 x 1000 km plane, fibre speed, TOPO_DEFAULT_HOP_US. */
void topo_gen_defaults(struct topo_gen *g);
/* A connected topology: routers the model leaves apart are joined to the
 * nearest router of the part holding router 0. */
int topo_generate(const struct topo_gen *g, struct topo **out, char *err, size_t errlen);

/* --- GML (Internet Topology Zoo and Shadow dialects) ------------------------ */

enum topo_unplaced {
	/* A node without Latitude/Longitude sits at the mean position of its
	 * placed neighbours (repeatedly, so chains resolve); links of a node
	 * that still has no position get default_delay_us. */
	TOPO_UNPLACED_NEIGHBOUR_MEAN,
	/* Every link touching a node without coordinates gets default_delay_us. */
	TOPO_UNPLACED_DEFAULT_DELAY,
};

struct topo_gml_opts {
	struct topo_delay delay;
	uint32_t default_delay_us;
	enum topo_unplaced unplaced;
};

/* Fibre speed, TOPO_DEFAULT_HOP_US, 10 ms default delay, neighbour mean. */
void topo_gml_defaults(struct topo_gml_opts *o);

/* Read graph [ node [ id label Latitude Longitude ] edge [ source target
 * LinkSpeedRaw latency|delay ] ]. A link delay given in the file wins over
 * coordinates: a string such as "10 ms" (units ns, us, ms, s) or a bare
 * number of milliseconds. Other keys and nested lists are skipped, '#'
 * starts a comment, self-loops (Shadow's same-node latency) are ignored.
 * Directed graphs are refused because the delay model is symmetric, and
 * so is a graph that is not connected. name is used in messages. */
int topo_gml_parse(const char *text, size_t len, const char *name, const struct topo_gml_opts *o,
                   struct topo **out, char *err, size_t errlen);
int topo_gml_load(const char *path, const struct topo_gml_opts *o, struct topo **out, char *err,
                  size_t errlen);
/* The same dialect with every delay explicit ("N us"), so loading the file
 * gives back the same routers and links; hosts are written as
 * host [ id router access ] lists, which GML readers skip. */
int topo_gml_write(const struct topo *t, const char *path, char *err, size_t errlen);

/* --- hosts ------------------------------------------------------------------ */

enum topo_attach {
	TOPO_ATTACH_UNIFORM, /* any router, uniformly at random */
	/* Stub routers only: those whose degree is at most the median degree,
	 * so that paths between hosts cross the better connected core. */
	TOPO_ATTACH_STUB,
};

/* Append one host on router with the given access delay; *host (may be NULL)
 * receives its index. */
int topo_host_add(struct topo *t, uint32_t router, uint32_t access_us, uint32_t *host, char *err,
                  size_t errlen);
/* Append nhosts hosts on routers drawn with a rng seeded by seed. */
int topo_hosts_attach(struct topo *t, uint32_t nhosts, enum topo_attach how, uint32_t access_us,
                      uint64_t seed, char *err, size_t errlen);
uint32_t topo_nhosts(const struct topo *t);
uint32_t topo_host_router(const struct topo *t, uint32_t host);
uint32_t topo_host_access(const struct topo *t, uint32_t host);

/* --- delays ----------------------------------------------------------------- */

/* Dijkstra from router src: dist[r] for every router (TOPO_UNREACHABLE when
 * there is no path) and, if prev is not NULL, the previous router on one
 * shortest path (src for itself, UINT32_MAX when unreachable). */
int topo_shortest(const struct topo *t, uint32_t src, uint64_t *dist, uint32_t *prev);

/* One-way delay between every pair of hosts into out, row-major
 * nhosts x nhosts: symmetric, zero diagonal. Fails if two hosts cannot reach
 * each other or a delay does not fit in 32 bits. */
int topo_host_delays(const struct topo *t, uint32_t *out, char *err, size_t errlen);

/* --- explicit host-to-host matrices ------------------------------------------ */

/* Rows of whitespace-separated delays in milliseconds (fractions allowed,
 * rounded to microseconds), '#' to the end of a line is a comment. The
 * matrix must be square and non-negative; it need not be symmetric nor obey
 * the triangle inequality, which is the point of hand-made cases. *out is
 * malloc'ed (row = sender). */
int topo_matrix_parse(const char *text, size_t len, const char *name, uint32_t **out, uint32_t *n,
                      char *err, size_t errlen);
int topo_matrix_load(const char *path, uint32_t **out, uint32_t *n, char *err, size_t errlen);
/* Write m (n x n) in the format topo_matrix_load reads, exactly. */
int topo_matrix_write(const char *path, const uint32_t *m, uint32_t n, char *err, size_t errlen);

#endif
