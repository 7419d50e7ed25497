build-dbg/obj/peer/node.o: peer/node.c peer/node.h lib/loop.h lib/util.h \
 peer/auth.h peer/wire.h peer/config.h peer/fault.h peer/udp.h \
 peer/identity.h peer/bindtab.h peer/inter.h peer/keynode.h peer/log.h \
 peer/mesh.h peer/overlay.h peer/buffer.h peer/policy.h peer/source.h \
 peer/http.h peer/media.h peer/serve.h peer/status.h
peer/node.h:
lib/loop.h:
lib/util.h:
peer/auth.h:
peer/wire.h:
peer/config.h:
peer/fault.h:
peer/udp.h:
peer/identity.h:
peer/bindtab.h:
peer/inter.h:
peer/keynode.h:
peer/log.h:
peer/mesh.h:
peer/overlay.h:
peer/buffer.h:
peer/policy.h:
peer/source.h:
peer/http.h:
peer/media.h:
peer/serve.h:
peer/status.h:
