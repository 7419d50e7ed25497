build-dbg/obj/lib/loop.o: lib/loop.c lib/loop.h lib/util.h
lib/loop.h:
lib/util.h:
