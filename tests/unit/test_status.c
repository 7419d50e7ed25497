#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peer/node.h"
#include "peer/status.h"

static struct config cfg;
static struct node n;

static int setup(void **state)
{
	memset(&n, 0, sizeof(n));
	config_defaults(&cfg, ROLE_PEER);
	n.cfg = &cfg;
	n.policy = policy_of(&cfg);
	n.self.id = 42;
	return 0;
}

/* A stream named with a quote and a backslash, one partner, one neighbour. */
static char *quoted_status(void)
{
	snprintf(n.ov.name, sizeof(n.ov.name), "a\"b\\c");
	n.ov.stream = 3;
	n.have_stream = 1;
	n.ov.np = 1;
	n.ov.p[0].addr = (struct wire_addr){7, 0x0a4d0008u, 7000};
	n.ov.p[0].is_source = 1;
	n.mesh.n = 1;
	n.mesh.nb[0].addr.id = 9;
	n.mesh.nb[0].delay_us = 1500;
	return status_json(&n);
}

static void test_name_is_escaped(void **state)
{
	char *j = quoted_status();
	assert_non_null(j);
	assert_non_null(strstr(j, "\"stream\": \"a\\\"b\\\\c\""));
	assert_non_null(strstr(j, "\"state\": \"buffering\""));
	free(j);
}

/* The document parses with jq and keeps its keys (skipped without jq). */
static void test_jq_reads_it(void **state)
{
	if (system("command -v jq >/dev/null 2>&1") != 0)
		skip();
	char *j = quoted_status();
	assert_non_null(j);
	char path[] = "/tmp/anysee-status-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, j, strlen(j)), (ssize_t)strlen(j));
	close(fd);
	free(j);
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
	         "jq -e '.stream == \"a\\\"b\\\\c\" and .id == 42 and .role == \"peer\" and "
	         ".mode == \"anysee\" and .stream_id == 3 and .buffer.capacity == 0 and "
	         ".continuity == 0 and .http_clients == 0 and "
	         ".partners == [{\"id\": 7, \"ip\": \"10.77.0.8\", \"source\": true}] and "
	         ".neighbours == [{\"id\": 9, \"delay_us\": 1500}]' %s >/dev/null",
	         path);
	int rc = system(cmd);
	unlink(path);
	assert_int_equal(rc, 0);
}

static void test_states(void **state)
{
	const char *want[] = {"joining", "buffering", "playing", "leaving"};
	for (int i = 0; i < 4; i++) {
		n.have_stream = i >= 1;
		n.ov.buf.playing = i >= 2;
		n.leaving = i >= 3;
		char *j = status_json(&n);
		char key[64];
		snprintf(key, sizeof(key), "\"state\": \"%s\"", want[i]);
		assert_non_null(strstr(j, key));
		free(j);
	}
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_name_is_escaped),
	    T(test_jq_reads_it),
	    T(test_states),
	};
	return cmocka_run_group_tests_name("status", tests, NULL, NULL);
}
