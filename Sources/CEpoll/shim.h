// Linux epoll, which Swift's Glibc module does not export (the closed-loop load generator's event loop).
#include <sys/epoll.h>
