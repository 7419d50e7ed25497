build-dbg/obj/peer/config.o: peer/config.c peer/config.h lib/addr.h \
 lib/opt.h lib/util.h peer/attack.h peer/mesh.h peer/log.h peer/wire.h \
 peer/policy.h
peer/config.h:
lib/addr.h:
lib/opt.h:
lib/util.h:
peer/attack.h:
peer/mesh.h:
peer/log.h:
peer/wire.h:
peer/policy.h:
