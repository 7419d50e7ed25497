build-dbg/obj/peer/fault.o: peer/fault.c peer/fault.h lib/util.h \
 peer/udp.h peer/wire.h lib/loop.h
peer/fault.h:
lib/util.h:
peer/udp.h:
peer/wire.h:
lib/loop.h:
