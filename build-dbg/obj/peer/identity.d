build-dbg/obj/peer/identity.o: peer/identity.c peer/identity.h \
 peer/bindtab.h peer/wire.h
peer/identity.h:
peer/bindtab.h:
peer/wire.h:
