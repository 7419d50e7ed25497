build-dbg/obj/peer/rp.o: peer/rp.c peer/rp.h peer/bindtab.h peer/wire.h \
 peer/config.h lib/loop.h lib/util.h peer/log.h peer/udp.h
peer/rp.h:
peer/bindtab.h:
peer/wire.h:
peer/config.h:
lib/loop.h:
lib/util.h:
peer/log.h:
peer/udp.h:
