build-dbg/obj/peer/udp.o: peer/udp.c peer/udp.h peer/wire.h lib/addr.h \
 lib/loop.h lib/util.h
peer/udp.h:
peer/wire.h:
lib/addr.h:
lib/loop.h:
lib/util.h:
