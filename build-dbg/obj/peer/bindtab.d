build-dbg/obj/peer/bindtab.o: peer/bindtab.c peer/bindtab.h peer/wire.h
peer/bindtab.h:
peer/wire.h:
