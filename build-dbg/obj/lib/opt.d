build-dbg/obj/lib/opt.o: lib/opt.c lib/opt.h lib/util.h lib/version.h
lib/opt.h:
lib/util.h:
lib/version.h:
