build-dbg/obj/lib/rundir.o: lib/rundir.c lib/rundir.h lib/util.h
lib/rundir.h:
lib/util.h:
