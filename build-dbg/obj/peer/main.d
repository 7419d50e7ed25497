build-dbg/obj/peer/main.o: peer/main.c lib/opt.h lib/util.h peer/attack.h \
 peer/config.h peer/monitor.h peer/node.h lib/loop.h peer/auth.h \
 peer/wire.h peer/fault.h peer/udp.h peer/identity.h peer/bindtab.h \
 peer/inter.h peer/keynode.h peer/log.h peer/mesh.h peer/overlay.h \
 peer/buffer.h peer/policy.h peer/source.h peer/rp.h
lib/opt.h:
lib/util.h:
peer/attack.h:
peer/config.h:
peer/monitor.h:
peer/node.h:
lib/loop.h:
peer/auth.h:
peer/wire.h:
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
peer/rp.h:
