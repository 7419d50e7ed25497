build-dbg/obj/lib/hist.o: lib/hist.c lib/hist.h
lib/hist.h:
