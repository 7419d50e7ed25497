/* The run directory: the one definition of its layout, written by the
 * harness and read by the analysis.
 *
 *   RUN_DIR/scenario.lua   the scenario as run       seed, params, schedule
 *   RUN_DIR/hosts.txt      "name role ip stream", one host a line
 *   RUN_DIR/harness.log    what the harness did      backend, switch.log, stopped_us
 *   RUN_DIR/delays.txt     shortest-path delays (ms) topology.gml
 *   RUN_DIR/capture.pcap   the capture, when asked
 *   RUN_DIR/metrics.json, peers.csv, report.txt      the analysis
 *   RUN_DIR/hosts/NAME/    a host's logs (peer/log.h) and stderr.log
 */
#ifndef ANYSEE_RUNDIR_H
#define ANYSEE_RUNDIR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RUNDIR_SCENARIO "scenario.lua"
#define RUNDIR_SEED "seed"
#define RUNDIR_PARAMS "params"
#define RUNDIR_SCHEDULE "schedule"
#define RUNDIR_HOSTS "hosts.txt"
#define RUNDIR_HARNESS_LOG "harness.log"
/* The real-time clock (us) when the harness began stopping every host:
 * leaves after it end the run, they are not departures. */
#define RUNDIR_STOPPED "stopped_us"
#define RUNDIR_BACKEND "backend"
#define RUNDIR_SWITCH_LOG "switch.log"
#define RUNDIR_DELAYS "delays.txt"
#define RUNDIR_TOPOLOGY "topology.gml"
#define RUNDIR_CAPTURE "capture.pcap"
#define RUNDIR_METRICS "metrics.json"
#define RUNDIR_PEERS_CSV "peers.csv"
#define RUNDIR_REPORT "report.txt"
#define RUNDIR_SWEEP_CSV "sweep.csv"
#define RUNDIR_HOSTS_DIR "hosts"
#define RUNDIR_HOST_STDERR "stderr.log"

/* emulation.txt: how faithful the emulation was, as the harness measured
 * it ("key=value" lines, keys as the fields below). The analysis judges it.
 * CPU is in cores: 1 is one core busy for the whole second. */
#define RUNDIR_EMULATION "emulation.txt"

struct rundir_emulation {
	double cpu_idle_mean, cpu_idle_min;   /* share of all cores idle, per second */
	uint64_t samples;                     /* seconds sampled */
	double hosts_cpu_mean, hosts_cpu_max; /* the hosts' processes together */
	/* Seconds left out of hosts_cpu_max: their reading of every host's
	 * /proc took too long against the interval to be a rate. */
	uint64_t hosts_cpu_smeared;
	/* The userspace shaping switch, when the backend had one: */
	int have_switch;
	double switch_cpu_mean, switch_cpu_max;
	double late_p50_us, late_p99_us, late_max_us; /* release lateness */
	uint64_t frames;                              /* frames received from hosts */
	/* Frames dropped, by cause: a full uplink or downlink queue, the
	 * links' random loss, a partition (the model's own), and the kernel
	 * refusing a send, the switch socket's receive buffer overflowing, or
	 * the switch out of frame buffers (the emulator's failures). */
	uint64_t drop_queue, drop_loss, drop_partition;
	uint64_t drop_send, drop_receive, drop_nobuf;
	/* The kernel's qdisc counters, when the backend was netem (netns/netem.h
	 * says what they tell apart): packets its upload leaves sent (of them,
	 * on lossy paths), and drops where they happened: leaves of lossy paths
	 * (random loss and those paths' queue overflow), upload and download
	 * queues, partitions; HTB throttling of both ends. */
	int have_kernel;
	uint64_t kernel_packets, kernel_loss_packets;
	uint64_t kernel_drop_loss, kernel_drop_upload, kernel_drop_download, kernel_drop_partition;
	uint64_t kernel_overlimits;
	/* The machine's own pauses (harness/pause.h), when the harness could
	 * probe for them: how many, and the longest. Each is in pauses.txt. */
	int have_pauses;
	uint64_t pauses;
	double pause_max_us;
};

int rundir_emulation_write(const char *dir, const struct rundir_emulation *e, char *err,
                           size_t errlen);
/* Returns -1 with the reason in err when the file is missing, or lacks the
 * CPU idle keys; the switch's keys may be absent (have_switch 0), as may the
 * kernel's (have_kernel 0). */
int rundir_emulation_read(const char *dir, struct rundir_emulation *e, char *err, size_t errlen);

/* pauses.txt: the times the machine itself did not run, as the harness's
 * real-time probe saw them (harness/pause.h), one "END_US CPU LATE_US"
 * line each: the wall-clock time in microseconds (the hosts' event logs'
 * clock) the probe on CPU ran again, LATE_US after it was due. Only pauses
 * of RUNDIR_PAUSE_MIN_US or more are listed. */
#define RUNDIR_PAUSES "pauses.txt"
#define RUNDIR_PAUSE_MIN_US 50000u

struct rundir_pause {
	uint64_t end_us;
	uint64_t late_us;
	int cpu;
};

/* When the probe last ran before the pause: end_us - late_us. */
uint64_t rundir_pause_start_us(const struct rundir_pause *p);
int rundir_pauses_write(const char *dir, const struct rundir_pause *p, size_t n, char *err,
                        size_t errlen);
/* The pauses, ordered by their start (end_us - late_us), in *out (the
 * caller frees it). -1 with the reason in err when the file is missing
 * or a line is not three numbers. */
int rundir_pauses_read(const char *dir, struct rundir_pause **out, size_t *n, char *err,
                       size_t errlen);

/* cpu.txt: the machine's load over the run, one "TS_US IDLE HOSTS SWITCH"
 * line a second as the harness sampled it: the wall-clock time in
 * microseconds (the hosts' event logs' clock) of the sample, the share of
 * all cores idle since the one before (0 to 1, the SCHED_IDLE spinners'
 * time counted as idle), and the cores the hosts' processes and the switch
 * used over about that second ("-" when not known: the switch when the
 * backend has none, either when that second's reading took too long to
 * time it, as the report's busiest second leaves such seconds out). What emulation.txt sums up,
 * second by second, so a reader sees whether the machine was short during the joins or all along.
 */
#define RUNDIR_CPU "cpu.txt"

struct rundir_cpu {
	uint64_t ts_us;
	double idle;
	double hosts; /* < 0: not known for that second */
	double sw;    /* < 0: no switch, or not known for that second */
};

int rundir_cpu_write(const char *dir, const struct rundir_cpu *c, size_t n, char *err,
                     size_t errlen);
/* The samples in file order, in *out (the caller frees it). -1 with the
 * reason in err when the file is missing or a line is not a sample. */
int rundir_cpu_read(const char *dir, struct rundir_cpu **out, size_t *n, char *err, size_t errlen);

/* One line of hosts.txt. Roles are the scenario's names ("rp", "source",
 * "peer", "monitor"); stream is "-" where the host has none. */
struct rundir_host {
	char name[32];
	char role[16];
	char ip[16];
	char stream[32];
};

/* The one rule for host and stream names, which become namespace,
 * directory and file names: 1..max characters of a-z, 0-9 and '-', not
 * starting with '-'. kind ("host name") starts the reason. */
int rundir_name_check(const char *kind, const char *name, size_t max, char *err, size_t errlen);

/* fopen for a run directory's files ("r", "rb", "w"): close-on-exec, and a
 * symbolic link in the last component is refused, so a crafted run
 * directory cannot make the analysis read or overwrite a file elsewhere. */
FILE *rundir_fopen(const char *path, const char *mode);

/* dir/name into buf; -1 (errno ENAMETOOLONG) when it does not fit. */
int rundir_path(char *buf, size_t len, const char *dir, const char *name);
/* dir/hosts/host/name into buf; name NULL gives the host's directory. */
int rundir_host_path(char *buf, size_t len, const char *dir, const char *host, const char *name);

int rundir_hosts_write(const char *dir, const struct rundir_host *h, int n, char *err,
                       size_t errlen);
/* Reads hosts.txt into a malloc'd array (*out, *n). A malformed line, or a
 * host name outside the rule above, is an error naming the file and line. */
int rundir_hosts_read(const char *dir, struct rundir_host **out, int *n, char *err, size_t errlen);

#endif
