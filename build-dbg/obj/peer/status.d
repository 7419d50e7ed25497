build-dbg/obj/peer/status.o: peer/status.c peer/status.h lib/addr.h \
 lib/json.h peer/http.h peer/node.h lib/loop.h lib/util.h peer/auth.h \
 peer/wire.h peer/config.h peer/fault.h peer/udp.h peer/identity.h \
 peer/bindtab.h peer/inter.h peer/keynode.h peer/log.h peer/mesh.h \
 peer/overlay.h peer/buffer.h peer/policy.h peer/source.h
peer/status.h:
lib/addr.h:
lib/json.h:
peer/http.h:
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
