build-dbg/obj/peer/mesh.o: peer/mesh.c peer/mesh.h lib/util.h peer/log.h \
 peer/wire.h
peer/mesh.h:
lib/util.h:
peer/log.h:
peer/wire.h:
