build-dbg/obj/peer/inter.o: peer/inter.c peer/inter.h lib/util.h \
 peer/auth.h peer/wire.h peer/keynode.h peer/log.h
peer/inter.h:
lib/util.h:
peer/auth.h:
peer/wire.h:
peer/keynode.h:
peer/log.h:
