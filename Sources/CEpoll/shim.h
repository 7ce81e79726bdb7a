#ifndef SWITCHBOARD_CEPOLL_SHIM_H
#define SWITCHBOARD_CEPOLL_SHIM_H
// Linux readiness APIs that Swift's Glibc module does not export: the Postgres event loops use them.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif
