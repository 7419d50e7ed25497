build-dbg/obj/peer/media.o: peer/media.c peer/media.h
peer/media.h:
