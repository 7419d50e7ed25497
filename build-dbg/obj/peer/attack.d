build-dbg/obj/peer/attack.o: peer/attack.c peer/attack.h peer/config.h \
 lib/loop.h lib/util.h peer/log.h peer/udp.h peer/wire.h
peer/attack.h:
peer/config.h:
lib/loop.h:
lib/util.h:
peer/log.h:
peer/udp.h:
peer/wire.h:
