build-dbg/obj/peer/wire.o: peer/wire.c peer/wire.h
peer/wire.h:
