build-dbg/obj/peer/monitor.o: peer/monitor.c peer/monitor.h peer/config.h \
 lib/loop.h lib/util.h peer/bindtab.h peer/wire.h peer/udp.h
peer/monitor.h:
peer/config.h:
lib/loop.h:
lib/util.h:
peer/bindtab.h:
peer/wire.h:
peer/udp.h:
