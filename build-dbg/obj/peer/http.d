build-dbg/obj/peer/http.o: peer/http.c peer/http.h lib/loop.h lib/util.h
peer/http.h:
lib/loop.h:
lib/util.h:
