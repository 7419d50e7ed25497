#ifndef ANYSEE_NET_H
#define ANYSEE_NET_H

/* anysee-harness net N [options] [-- COMMAND...]: see net.c. */
int cmd_net(int argc, char **argv);

#endif
