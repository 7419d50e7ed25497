build-dbg/obj/peer/keynode.o: peer/keynode.c peer/keynode.h
peer/keynode.h:
