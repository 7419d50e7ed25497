build-dbg/obj/peer/serve.o: peer/serve.c peer/serve.h peer/overlay.h \
 lib/util.h peer/buffer.h peer/wire.h peer/mesh.h peer/log.h
peer/serve.h:
peer/overlay.h:
lib/util.h:
peer/buffer.h:
peer/wire.h:
peer/mesh.h:
peer/log.h:
