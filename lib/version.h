/* The project's version, printed by every binary's --version. */
#ifndef ANYSEE_VERSION_H
#define ANYSEE_VERSION_H

#define ANYSEE_VERSION "0.1.0"

#endif
