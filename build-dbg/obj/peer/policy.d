build-dbg/obj/peer/policy.o: peer/policy.c peer/policy.h peer/config.h
peer/policy.h:
peer/config.h:
