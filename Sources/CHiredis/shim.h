// hiredis, the Redis C client (Debian: libhiredis-dev).
#include <hiredis/hiredis.h>
