/* Event loop: epoll with its timeout as the timer, single-threaded, non-blocking.
 * Timers run on the monotonic clock and return their next interval (0 ends
 * them), as in Redis's ae. The loop holds no protocol logic. */
#ifndef ANYSEE_LOOP_H
#define ANYSEE_LOOP_H

#include <stdint.h>

struct loop;
typedef void (*loop_io_fn)(struct loop *l, int fd, uint32_t events, void *arg);
/* Returns microseconds until the next run, or 0 to remove the timer. */
typedef uint64_t (*loop_timer_fn)(struct loop *l, void *arg);

struct loop *loop_new(void);
void loop_free(struct loop *l);
int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_io_fn fn, void *arg);
int loop_mod_fd(struct loop *l, int fd, uint32_t events);
void loop_del_fd(struct loop *l, int fd);
/* Returns a timer id (> 0) or 0 when out of memory. */
uint64_t loop_add_timer(struct loop *l, uint64_t after_us, loop_timer_fn fn, void *arg);
void loop_del_timer(struct loop *l, uint64_t id);
/* The timer may run up to slack_us after its due time, so that it runs in a
 * round the loop wakes for anyway (I/O, another timer) rather than waking the
 * loop itself; never before its due time. Its period is kept: the next run
 * is due one interval after this one's due time, not after its run. A timer
 * run within its slack is not late (loop_on_late). */
void loop_set_slack(struct loop *l, uint64_t id, uint64_t slack_us);
/* Ends loop_run on SIGINT/SIGTERM too: on_signal (may be NULL) runs first
 * and may keep the loop going by returning 0 (e.g. to announce a leave). */
int loop_run(struct loop *l, int (*on_signal)(struct loop *l, int sig, void *arg), void *arg);
void loop_stop(struct loop *l);
/* After a round of timers of which one ran threshold_us or more after its
 * due time and slack, fn gets the largest lateness: the process did not run for that
 * long (starved of CPU, blocked in a write to a stalled disk, stopped),
 * which no protocol timeout should be blamed for. */
void loop_on_late(struct loop *l, uint64_t threshold_us, void (*fn)(void *arg, uint64_t late_us),
                  void *arg);

#endif
