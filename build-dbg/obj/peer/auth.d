build-dbg/obj/peer/auth.o: peer/auth.c peer/auth.h peer/wire.h lib/util.h
peer/auth.h:
peer/wire.h:
lib/util.h:
