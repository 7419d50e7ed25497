build-dbg/obj/peer/overlay.o: peer/overlay.c peer/overlay.h lib/util.h \
 peer/buffer.h peer/wire.h peer/mesh.h peer/log.h
peer/overlay.h:
lib/util.h:
peer/buffer.h:
peer/wire.h:
peer/mesh.h:
peer/log.h:
