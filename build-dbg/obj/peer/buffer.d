build-dbg/obj/peer/buffer.o: peer/buffer.c peer/buffer.h peer/wire.h
peer/buffer.h:
peer/wire.h:
