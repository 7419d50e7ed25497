build-dbg/obj/peer/source.o: peer/source.c peer/source.h peer/wire.h \
 peer/auth.h peer/media.h peer/node.h lib/loop.h lib/util.h peer/config.h \
 peer/fault.h peer/udp.h peer/identity.h peer/bindtab.h peer/inter.h \
 peer/keynode.h peer/log.h peer/mesh.h peer/overlay.h peer/buffer.h \
 peer/policy.h
peer/source.h:
peer/wire.h:
peer/auth.h:
peer/media.h:
peer/node.h:
lib/loop.h:
lib/util.h:
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
