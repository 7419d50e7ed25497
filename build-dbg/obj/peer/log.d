build-dbg/obj/peer/log.o: peer/log.c peer/log.h lib/util.h
peer/log.h:
lib/util.h:
