#ifndef ANYSEE_RP_H
#define ANYSEE_RP_H

#include "peer/config.h"

/* Run the rendezvous point until SIGINT/SIGTERM. Returns the exit code. */
int rp_run(struct config *cfg);

#endif
